/* SPDX-License-Identifier: MIT */
/*
 * guest_start() (called by _start), the PASS/FAIL/SKIP lines, the summary
 * and the exit port, and whether we run under Petrel.
 */
#include "guest.h"

#define MB_BOOT_MAGIC 0x2BADB002u
#define EXIT_PORT 0xf4 /* QEMU isa-debug-exit: exit status (value << 1) | 1 */

static uint32_t passed, failed, skipped;
static bool petrel, verbose;

void guest_start(uint32_t magic, uint32_t info, uint32_t bss_dirty);
void trap_init(void);
int mb_init(uint32_t info_addr);

/*
 * Petrel says who it is as KVM and Xen do: CPUID.1:ECX[31] (hypervisor
 * present) and, at leaf 0x40000000, EAX = highest hypervisor leaf and
 * EBX:ECX:EDX = "PetrelHV\0\0\0\0".  Without bit 31 the leaf means nothing.
 */
static bool detect_petrel(void)
{
	if (!(cpuid(1).ecx & (1u << 31)))
		return false;
	struct cpuid_regs r = cpuid(0x40000000);
	return r.ebx == 0x72746550 /* "Petr" */ && r.ecx == 0x56486c65 /* "elHV" */ &&
	       r.edx == 0 && r.eax >= 0x40000001;
}

bool under_petrel(void) { return petrel; }

/* Whether word appears in s as a whole space-separated word. */
static bool has_word(const char *s, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = s; *p; p++)
		if ((p == s || p[-1] == ' ') && !memcmp(p, word, n) && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

/* key=N on the command line (decimal or 0x hex), else dflt. */
uint32_t cmdline_u32(const char *key, uint32_t dflt)
{
	const char *s = mb_cmdline();
	size_t n = strlen(key);

	for (const char *p = s; *p; p++) {
		if ((p != s && p[-1] != ' ') || memcmp(p, key, n) || p[n] != '=')
			continue;
		uint32_t v = 0, base = 10;
		p += n + 1;
		if (p[0] == '0' && p[1] == 'x') {
			base = 16;
			p += 2;
		}
		for (;; p++) {
			uint32_t d = *p >= '0' && *p <= '9' ? (uint32_t)(*p - '0') :
				     *p >= 'a' && *p <= 'f' && base == 16 ? (uint32_t)(*p - 'a' + 10) : 99;
			if (d >= base)
				return v;
			v = v * base + d;
		}
	}
	return dflt;
}

bool cmdline_has(const char *word) { return has_word(mb_cmdline(), word); }

void report(bool pass, const char *fmt, ...)
{
	char buf[224];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (pass) {
		/* A pass shows the name only (all of it with "verbose" on the
		 * command line): cut the text at the first ": ". */
		for (char *p = buf; *p && !verbose; p++)
			if (p[0] == ':' && p[1] == ' ') {
				*p = '\0';
				break;
			}
		passed++;
	} else {
		failed++;
	}
	printf("%s %s\n", pass ? "PASS" : "FAIL", buf);
}

void report_skip(const char *name, const char *why_fmt, ...)
{
	char why[160];
	va_list ap;
	va_start(ap, why_fmt);
	vsnprintf(why, sizeof(why), why_fmt, ap);
	va_end(ap);
	skipped++;
	printf("SKIP %s: %s\n", name, why);
}

__attribute__((noreturn)) void exit_tests(void)
{
	printf("SUMMARY %s passed=%u failed=%u skipped=%u\n", guest_name, passed, failed, skipped);
	outl(EXIT_PORT, failed ? 1 : 0);
	/* Not under QEMU's debug-exit device: stop here for good.  IF=0 and HLT
	 * is how a guest says "done" to a hypervisor without an exit port. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_start(uint32_t magic, uint32_t info, uint32_t bss_dirty)
{
	serial_init();
	trap_init();
	int regions = magic == MB_BOOT_MAGIC ? mb_init(info) : 0;
	petrel = detect_petrel();
	verbose = has_word(mb_cmdline(), "verbose");
	printf("START %s petrel=%d ram-top=0x%llx cmdline=\"%s\"\n", guest_name, petrel,
	       mb_ram_top(), mb_cmdline());
	report(magic == MB_BOOT_MAGIC && regions > 0 && mb_ram_top() > (uint32_t)__image_end,
	       "boot-info: magic 0x%x, %d memory regions, RAM top 0x%llx, image end %p",
	       magic, regions, mb_ram_top(), (void *)__image_end);
	report(!bss_dirty, "boot-bss-zeroed: the loader left non-zero bytes in .bss (%p-%p)",
	       (void *)__bss_start, (void *)__bss_end);
	guest_main();
	exit_tests();
}

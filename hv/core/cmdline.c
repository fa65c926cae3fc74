/* SPDX-License-Identifier: MIT */
/* Command-line tokenizer and the hypervisor's options; see petrel/cmdline.h. */
#include <petrel/cmdline.h>
#include <petrel/lib.h>
#include <petrel/log.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Reads up to the closing quote at *s (just past the opening one). */
static bool read_quoted(const char **s)
{
	while (**s && **s != '"')
		(*s)++;
	if (!**s)
		return false;
	(*s)++;
	return true;
}

/* A word is key, key=value or key="value with spaces"; or the whole word
 * in quotes, "key=value with spaces", which is how GRUB passes an argument
 * that has spaces.  Quotes are not part of the key or value. */
bool cmdline_next(const char **pos, struct cmdline_token *tok, bool *bad_quote)
{
	const char *s = *pos;
	bool whole = false;

	*bad_quote = false;
	while (is_space(*s))
		s++;
	if (!*s)
		return false;
	if (*s == '"') {
		whole = true;
		s++;
	}
	*tok = (struct cmdline_token){ .key = s };
	while (*s && !is_space(*s) && *s != '=' && *s != '"')
		s++;
	tok->key_len = (size_t)(s - tok->key);
	if (*s == '=') {
		tok->has_val = true;
		s++;
		if (!whole && *s == '"') {
			tok->val = ++s;
			if (!read_quoted(&s))
				goto unterminated;
			tok->val_len = (size_t)(s - 1 - tok->val);
		} else {
			tok->val = s;
			while (*s && (whole ? *s != '"' : !is_space(*s)))
				s++;
			tok->val_len = (size_t)(s - tok->val);
		}
	}
	if (whole && !read_quoted(&s))
		goto unterminated;
	*pos = s;
	return true;
unterminated:
	*bad_quote = true;
	*pos = s;
	return false;
}

bool cmdline_key_is(const struct cmdline_token *t, const char *key)
{
	return t->key_len == strlen(key) && strncmp(t->key, key, t->key_len) == 0;
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static bool parse_level(const struct cmdline_token *t, int *out)
{
	for (int i = 0; i < (int)ARRAY_SIZE(level_names); i++) {
		if (t->val_len == strlen(level_names[i]) &&
		    strncmp(t->val, level_names[i], t->val_len) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

static bool parse_option(const struct cmdline_token *t, struct hv_config *cfg)
{
	uint64_t v;

	if (cmdline_key_is(t, "serial"))
		return t->has_val && parse_u64(t->val, t->val_len, &v, false) && v > 0 && v <= 0xfff8 &&
		       (cfg->serial_port = (uint16_t)v, true);
	if (cmdline_key_is(t, "loglevel"))
		return t->has_val && parse_level(t, &cfg->log_level);
	if (cmdline_key_is(t, "selftest"))
		return t->has_val && t->val_len < sizeof(cfg->selftest) &&
		       (str_ncopy(cfg->selftest, t->val, t->val_len, sizeof(cfg->selftest)), true);
	if (cmdline_key_is(t, "stats"))
		return t->has_val && parse_u64(t->val, t->val_len, &v, false) && v > 0 && v <= 3600 &&
		       (cfg->stats_s = (uint32_t)v, true);
	if (cmdline_key_is(t, "conswitch")) /* a letter: its control character */
		return t->has_val && t->val_len == 1 &&
		       ((t->val[0] >= 'a' && t->val[0] <= 'z') || (t->val[0] >= 'A' && t->val[0] <= 'Z')) &&
		       (cfg->conswitch = (uint8_t)(t->val[0] & 0x1f), true);
	if (cmdline_key_is(t, "gdbport")) {
		if (t->has_val && t->val_len == 3 && !strncmp(t->val, "off", 3))
			return (cfg->gdb_port = 0, true);
		return t->has_val && parse_u64(t->val, t->val_len, &v, false) && v > 0 && v <= 0xfff8 &&
		       (cfg->gdb_port = (uint16_t)v, true);
	}
	if (cmdline_key_is(t, "cpu0")) {
		if (t->has_val && t->val_len == 4 && !strncmp(t->val, "host", 4))
			return (cfg->cpu0_host = true, true);
		return t->has_val && t->val_len == 6 && !strncmp(t->val, "guests", 6) && (cfg->cpu0_host = false, true);
	}
	if (cmdline_key_is(t, "acpidump"))
		return !t->has_val && (cfg->acpidump = true);
	return false;
}

int hv_config_parse(const char *cmdline, struct hv_config *cfg, char *errs, size_t errlen)
{
	struct cmdline_token t;
	const char *pos = cmdline;
	bool bad_quote;
	size_t used = 0;
	int nerr = 0;

	*cfg = (struct hv_config){ .serial_port = 0x3f8, .log_level = LOG_INFO, .conswitch = 0x01,
				   .gdb_port = 0x2f8 };
	if (errlen)
		errs[0] = '\0';
	while (cmdline_next(&pos, &t, &bad_quote)) {
		if (parse_option(&t, cfg))
			continue;
		nerr++;
		if (used < errlen)
			used += (size_t)pt_snprintf(errs + used, errlen - used,
						    "command line: bad or unknown option '%.*s'\n",
						    (int)(pos - t.key), t.key);
	}
	if (bad_quote) {
		nerr++;
		if (used < errlen)
			pt_snprintf(errs + used, errlen - used, "command line: unterminated quote\n");
	}
	return nerr;
}

const char *cmdline_skip_image_path(const char *cmdline)
{
	const char *s = cmdline, *word;
	bool path_like = false;

	while (*s == ' ')
		s++;
	word = s;
	for (; *s && *s != ' '; s++) {
		if (*s == '=')
			return cmdline;
		if (*s == '/' || *s == '\\')
			path_like = true;
	}
	if (!path_like && (s - word < 4 || (strncmp(s - 4, ".elf", 4) && strncmp(s - 4, ".efi", 4))))
		return cmdline;
	while (*s == ' ')
		s++;
	return s;
}

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Regenerates tests/data/decode/corpus.bin, the objdump cross-check corpus of
# tests/unit/test_decode.c.  Run once by hand (binutils, gcc); the test
# reads only the committed output.
#
# Format: records of [mode][len][len instruction bytes], mode 16/32/64, len
# as objdump (binutils 2.40) decoded it.  Sources: the .text of a few Debian
# binaries (64-bit: coreutils ls, glibc and libcrypto with their SSE/AVX/
# AVX-512 paths; 32-bit: GRUB's i386-pc modules), Petrel's own C compiled
# with gcc -m32 and -m16 (.code16gcc, so 66/67-prefixed 32-bit code in
# 16-bit mode), and RANDOM random byte strings per mode for the opcodes
# compilers never emit.  objdump's "(bad)" lines are left out, and so are
# its artifacts and the documented policy differences (below).  Exact
# duplicates are dropped, and at most PER_SHAPE instructions are kept per
# mnemonic, operand shape and length (registers and numbers blanked), which
# keeps the file small while keeping every form seen.
import collections, glob, os, random, re, subprocess, sys, tempfile

PER_SHAPE = 1
RANDOM = 8000      # random byte strings per mode, before filtering
ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))

def objdump(path, mode, raw=False):
    for _, b, text in objdump_at(path, mode, raw):
        yield b, text

def objdump_at(path, mode, raw=False):
    """(offset, bytes, text) for each instruction objdump decodes."""
    arch = {16: 'i8086', 32: 'i386', 64: 'i386:x86-64'}[mode]
    if raw:
        args = ['objdump', '-D', '-w', '--insn-width=16', '-b', 'binary', '-m', arch]
    else:
        args = ['objdump', '-d', '-w', '--insn-width=16', '-j', '.text']
        if mode == 16:
            args += ['-m', arch]
    out = subprocess.run(args + [path], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split('\t')
        if len(f) < 3 or not re.match(r'^\s*[0-9a-f]+:$', f[0]):
            continue
        hexb = f[1].split()
        text = ' '.join(f[2:]).strip()
        if not hexb or '(bad)' in text or text.startswith('.byte'):
            continue
        b = bytes(int(h, 16) for h in hexb)
        if objdump_artifact(b, text, mode):
            continue
        yield int(f[0].strip()[:-1], 16), b, text

PREFIXES = {'data16', 'data32', 'addr16', 'addr32', 'lock', 'rep', 'repz', 'repnz',
            'repe', 'repne', 'cs', 'ds', 'es', 'ss', 'fs', 'gs', 'bnd', 'notrack',
            'xacquire', 'xrelease'}

def objdump_artifact(b, text, mode):
    """Lines where objdump's idea of an instruction is not the CPU's."""
    words = text.split()
    # A prefix printed on its own line (objdump drops a REX that a legacy
    # prefix follows, and prints the rest separately): not an instruction.
    if all(w in PREFIXES or w.startswith('rex') for w in words):
        return True
    # objdump folds FWAIT (9B) into the x87 instruction after it (FSTSW vs
    # FNSTSW); to the CPU 9B is an instruction of its own.
    i = 0
    while i < len(b) - 1 and (b[i] in LEGACY or (mode == 64 and 0x40 <= b[i] <= 0x4f)):
        i += 1
    if b[i] == 0x9b and len(b) > i + 1:
        return True
    # REX before VEX/EVEX is #UD (SDM vol. 2 §2.3.2); objdump decodes it.
    if mode == 64 and len(b) > 1 and any(w.startswith('rex') for w in words):
        i = 0
        while b[i] in b'\x26\x2e\x36\x3e\x64\x65\x66\x67\xf0\xf2\xf3':
            i += 1
        while 0x40 <= b[i] <= 0x4f and i + 1 < len(b):
            i += 1
        if b[i] in (0xc4, 0xc5, 0x62) and b[i - 1] & 0xf0 == 0x40:
            return True
    return False

def shape(text):
    text = re.sub(r'<[^>]*>|#.*', '', text)
    text = re.sub(r'%[a-z]+[0-9]*[a-z]*', '%r', text)
    return re.sub(r'0x[0-9a-f]+|\b[0-9]+\b', '#', text)

def compile_petrel(flag, mode):
    srcs = sorted(glob.glob(os.path.join(ROOT, 'hv', '*', '*.c')) +
                  glob.glob(os.path.join(ROOT, 'hv', 'arch', 'x86', '*.c')) +
                  glob.glob(os.path.join(ROOT, 'drivers', '*.c')))
    for src in srcs:
        with tempfile.TemporaryDirectory() as d:
            s, o = os.path.join(d, 'x.s'), os.path.join(d, 'x.o')
            cc = ['gcc', flag, '-std=c11', '-O2', '-ffreestanding', '-fno-pic',
                  '-I' + os.path.join(ROOT, 'hv', 'include'), '-S', src, '-o', s]
            if subprocess.run(cc, capture_output=True).returncode:
                continue
            if subprocess.run(['as', '--32', s, '-o', o], capture_output=True).returncode:
                continue
            yield from objdump(o, mode)

LEGACY = [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]

def random_insns(mode, n, rng):
    """Random prefixes + opcode (one-byte, 0F, 0F 38, 0F 3A, VEX/EVEX/XOP
    escape) + random bytes, each in its own 31-byte slot padded with NOPs so
    that objdump is back in step at the next slot; only objdump's decode at
    the slot start counts."""
    slots = []
    for _ in range(n):
        b = [rng.choice(LEGACY) for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3]))]
        if mode == 64 and rng.random() < 0.4:
            b.append(rng.randint(0x40, 0x4f))
        r = rng.random()
        if r < 0.45:
            b.append(rng.randint(0, 255))
        elif r < 0.8:
            b += [0x0f, rng.randint(0, 255)]
        elif r < 0.94:
            b += [0x0f, rng.choice([0x38, 0x3a]), rng.randint(0, 255)]
        else:
            b.append(rng.choice([0xc4, 0xc5, 0x62, 0x8f]))
        b += [rng.randint(0, 255) for _ in range(15)]
        slots.append(bytes(b[:15]))
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'r.bin')
        with open(path, 'wb') as f:
            f.write(b''.join(s + b'\x90' * 16 for s in slots))
        for off, b, text in objdump_at(path, mode, raw=True):
            if off % 31 == 0 and not policy_difference(b, mode):
                yield b, text

def policy_difference(b, mode):
    """Where the decoder differs from objdump on purpose (see x86_decode.h):
    objdump accepts VEX/EVEX/XOP after 66, F2, F3, F0 or REX, which is #UD,
    and MOV to/from test registers (0F 24/26), which left with the 486."""
    i, forbidden = 0, False
    while i < len(b) - 1 and (b[i] in LEGACY or (mode == 64 and 0x40 <= b[i] <= 0x4f)):
        forbidden |= b[i] in (0x66, 0xf2, 0xf3, 0xf0) or b[i] >= 0x40 and b[i] <= 0x4f
        i += 1
    nxt = b[i + 1] if i + 1 < len(b) else 0
    vex = (b[i] in (0xc4, 0xc5, 0x62) and (mode == 64 or nxt >= 0xc0)) or \
          (b[i] == 0x8f and nxt & 0x1f >= 8)
    return (forbidden and vex) or (b[i] == 0x0f and nxt in (0x24, 0x26))

def sources():
    for lib in ['/usr/bin/ls', '/usr/lib/x86_64-linux-gnu/libc.so.6',
                '/usr/lib/x86_64-linux-gnu/libcrypto.so.3']:
        yield 'objdump ' + lib, 64, objdump(lib, 64)
    yield 'GRUB i386-pc modules', 32, (x for mod in sorted(glob.glob('/usr/lib/grub/i386-pc/*.mod'))
                                       for x in objdump(mod, 32))
    yield 'Petrel gcc -m32', 32, compile_petrel('-m32', 32)
    yield 'Petrel gcc -m16', 16, compile_petrel('-m16', 16)
    rng = random.Random(20240601)
    for mode in (64, 32, 16):
        yield 'random %d-bit' % mode, mode, random_insns(mode, RANDOM, rng)

def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus.bin')
    seen, per = set(), collections.Counter()
    rec = bytearray()
    for name, mode, insns in sources():
        n = 0
        for b, text in insns:
            key = (mode, len(b), shape(text))
            if (mode, b) in seen or per[key] >= PER_SHAPE or len(b) > 15:
                continue
            seen.add((mode, b))
            per[key] += 1
            rec += bytes([mode, len(b)]) + b
            n += 1
        print(f'{name}: {n}')
    with open(out, 'wb') as f:
        f.write(rec)
    print(f'{out}: {len(seen)} instructions, {len(rec)} bytes')

main()

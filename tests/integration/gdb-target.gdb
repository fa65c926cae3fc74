# GDB against the gdb-target test guest through Petrel's GDB stub
# (tests/integration/run.sh, test_gdb): run in batch mode after
# `target remote`, with the guest's ELF for symbols.  In batch mode a
# command that fails ends the script: every step below must work.  The
# hardware watchpoint comes last: run.sh adds the rest for each backend.
info threads
break compute
continue
backtrace
print seed
set var seed = 13
print seed
next
step
backtrace
print x
monitor vcpu regs 0
watch watched
continue

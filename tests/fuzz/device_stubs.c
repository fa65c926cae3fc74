/* SPDX-License-Identifier: MIT */
/* What a device model's glue calls in the hypervisor, for harnesses that
 * link a whole device file but drive only its pure model: never called. */
#include <stdlib.h>

#include <petrel/device.h>
#include <petrel/log.h>
#include <petrel/pci.h>

void *vm_alloc(struct vm *vm, size_t size) { (void)vm, (void)size; abort(); }
uint8_t *vm_disk(struct vm *vm, uint64_t *size) { (void)vm, (void)size; abort(); }
void *vm_dma(struct vm *vm, uint64_t gpa, uint64_t len) { (void)vm, (void)gpa, (void)len; abort(); }
int vm_pci_add(struct vm *vm, uint8_t devfn, const struct pci_function_desc *d) { (void)vm, (void)devfn, (void)d; abort(); }
void vm_pci_set_intx(struct vm *vm, uint8_t devfn, bool level) { (void)vm, (void)devfn, (void)level; abort(); }
void vm_send_apic_msg(struct vm *vm, const struct apic_msg *m) { (void)vm, (void)m; abort(); }
const char *vm_name(const struct vm *vm) { (void)vm; abort(); }
void log_printf(int level, const char *fmt, ...) { (void)level, (void)fmt; abort(); }
int vm_register_pio(struct vm *vm, uint16_t base, uint16_t len, io_read_fn rd, io_write_fn wr, void *dev,
		    const char *name)
{
	(void)vm, (void)base, (void)len, (void)rd, (void)wr, (void)dev, (void)name;
	abort();
}
bool vm_has_firmware(const struct vm *vm) { (void)vm; abort(); }
int vm_acpi_linked(struct vm *vm, struct acpi_linked *out) { (void)vm, (void)out; abort(); }
uint32_t vm_e820_fw(const struct vm *vm, uint8_t *out, unsigned max) { (void)vm, (void)out, (void)max; abort(); }
uint64_t vm_ram_size(const struct vm *vm) { (void)vm; abort(); }
uint32_t vm_nr_vcpus(const struct vm *vm) { (void)vm; abort(); }
uint16_t vm_console_port(const struct vm *vm) { (void)vm; abort(); }
struct vm *vcpu_vm(const struct vcpu *v) { (void)v; abort(); }
int vm_add_boot_device(struct vm *vm, const char *path) { (void)vm, (void)path; abort(); }
const char *vm_boot_order(const struct vm *vm) { (void)vm; abort(); }

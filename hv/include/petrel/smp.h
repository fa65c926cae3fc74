/* SPDX-License-Identifier: MIT */
#ifndef PETREL_SMP_H
#define PETREL_SMP_H
/* Stops every other CPU (an NMI to each online AP): used by panic(). */
void smp_stop_others(void);
#endif

/*
 * board.h - the QEMU lm3s6965evb test board as the firmware sees it:
 * memory map, UART0 (a PL011), and the layout the boot stage and the host
 * agree on (docs/qemu.md).
 */
#ifndef LSEC_FW_BOARD_H
#define LSEC_FW_BOARD_H

#include <stddef.h>
#include <stdint.h>

#define FLASH_SIZE 0x40000u /* 256 KiB at 0 */
#define RAM_BASE 0x20000000u
#define RAM_SIZE 0x10000u /* 64 KiB */

/* The application slot: an MCUboot-format image (linesec image sign --header-size 0x200). */
#define SLOT_ADDR 0x8000u
#define SLOT_HDR_SIZE 0x200u /* the application is linked at SLOT_ADDR + SLOT_HDR_SIZE */
/* The factory info block: 16 bytes UID, then FACTORY_MAGIC (little-endian "LSFI"). */
#define FACTORY_ADDR 0x3fc00u
#define FACTORY_UID_LEN 16u
#define FACTORY_MAGIC 0x4946534cu
#define SLOT_SIZE (FACTORY_ADDR - SLOT_ADDR)

void uart_putc(char c);
void uart_puts(const char *s);
void uart_hex(const uint8_t *p, size_t n);
void uart_dec(uint32_t v);
/* Returns the next received byte, or -1 when none is waiting. */
int uart_getc(void);
/* Stops for good without faulting (QEMU would report a lockup). */
__attribute__((noreturn)) void halt(void);

/* Each program's entry, called by the reset handler once .data and .bss are set up. */
__attribute__((noreturn)) void fw_main(void);

#endif

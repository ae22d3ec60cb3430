/*
 * board.c - start-up code, vector table and polled UART0 for the test
 * firmware (boot stage and application alike). No libc.
 */
#include "board.h"

#define UART0_DR (*(volatile uint32_t *)0x4000c000u)
#define UART0_FR (*(volatile uint32_t *)0x4000c018u)
#define UART_FR_RXFE (1u << 4)
#define UART_FR_TXFF (1u << 5)

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;

void *memset(void *d, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void reset_handler(void);
void fault_handler(void);

/* The compiler may emit calls to these two. */
void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;
	while (n--) {
		*p++ = (uint8_t)c;
	}
	return d;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;
	while (n--) {
		*p++ = *q++;
	}
	return d;
}

void uart_putc(char c)
{
	while (UART0_FR & UART_FR_TXFF) {
	}
	UART0_DR = (uint8_t)c;
}

void uart_puts(const char *s)
{
	while (*s) {
		uart_putc(*s++);
	}
}

void uart_hex(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		uart_putc(digits[p[i] >> 4]);
		uart_putc(digits[p[i] & 15]);
	}
}

void uart_dec(uint32_t v)
{
	char b[11];
	int i = 0;
	do {
		b[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i) {
		uart_putc(b[--i]);
	}
}

int uart_getc(void)
{
	if (UART0_FR & UART_FR_RXFE) {
		return -1;
	}
	return (int)(UART0_DR & 0xffu);
}

void halt(void)
{
	for (;;) {
		__asm__ volatile("wfi");
	}
}

void reset_handler(void)
{
	uint32_t *s = &_sidata, *d = &_sdata;
	while (d < &_edata) {
		*d++ = *s++;
	}
	for (d = &_sbss; d < &_ebss; d++) {
		*d = 0;
	}
	fw_main();
}

/* Any fault: say so on the UART and stop (a fault inside a fault would lock QEMU up). */
void fault_handler(void)
{
	uart_puts("\r\nLSEC-FAULT\r\n");
	halt();
}

/* Cortex-M3 exceptions only: the firmware polls, it enables no interrupt. */
__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
	(void (*)(void))(uintptr_t)&_estack,
	reset_handler,
	fault_handler, /* NMI */
	fault_handler, /* HardFault */
	fault_handler, /* MemManage */
	fault_handler, /* BusFault */
	fault_handler, /* UsageFault */
	0,
	0,
	0,
	0,
	fault_handler, /* SVCall */
	fault_handler, /* DebugMonitor */
	0,
	fault_handler, /* PendSV */
	fault_handler, /* SysTick */
};

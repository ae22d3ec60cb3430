/*
 * app.c - the test application. Prints a banner; its debug build
 * (-DLSEC_FW_DEBUG) then opens a console on UART0 that echoes what it
 * reads and answers a few commands. The release build has no console.
 */
#include "board.h"

#ifdef LSEC_FW_DEBUG
#define BUILD_NAME "debug"
#else
#define BUILD_NAME "release"
#endif

#ifdef LSEC_FW_DEBUG
static int streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static void command(const char *line)
{
	if (streq(line, "")) {
		return;
	}
	if (streq(line, "help")) {
		uart_puts("commands: help, build, uid\r\n");
	} else if (streq(line, "build")) {
		uart_puts(BUILD_NAME "\r\n");
	} else if (streq(line, "uid")) {
		uart_hex((const uint8_t *)FACTORY_ADDR, FACTORY_UID_LEN);
		uart_puts("\r\n");
	} else {
		uart_puts("unknown command: ");
		uart_puts(line);
		uart_puts("\r\n");
	}
}

__attribute__((noreturn)) static void console(void)
{
	char line[64];
	unsigned n = 0;
	uart_puts("LSEC-CONSOLE open\r\n> ");
	for (;;) {
		int c = uart_getc();
		if (c < 0) {
			continue;
		}
		if (c == '\r' || c == '\n') {
			uart_puts("\r\n");
			line[n] = 0;
			command(line);
			n = 0;
			uart_puts("> ");
		} else if (n + 1 < sizeof(line)) {
			line[n++] = (char)c;
			uart_putc((char)c);
		}
	}
}
#endif

void fw_main(void)
{
	uart_puts("LSEC-APP linesec test application, " BUILD_NAME " build\r\n");
#ifdef LSEC_FW_DEBUG
	console();
#else
	halt();
#endif
}

/*
 * boot.c - the test board's boot stage (at flash 0, like a mask ROM).
 *
 * Measures the MCUboot-format image in the application slot (SLOT_ADDR):
 * checks its header and both TLV areas against the slot, computes the
 * SHA-256 of the hashed region (header, padding, payload, protected TLVs;
 * docs/image-format.md), and prints one attestation line on UART0:
 *
 *   LSEC-ATTEST v1 digest=HEX version=X.Y.Z+B build=release|debug|none uid=HEX|none
 *
 * then starts the application. An image it cannot start gives
 *
 *   LSEC-ATTEST v1 error=REASON[ digest=HEX]
 *
 * and the boot stage stops in a wait loop. It checks that the image's
 * SHA-256 TLV matches what it measured, not the signature: the attestation
 * is a measurement, judged by the station against the approved digest.
 */
#include "board.h"
#include "sha256.h"

#define IMG_MAGIC 0x96f3b83du
#define TLV_INFO_MAGIC 0x6907u
#define TLV_PROT_INFO_MAGIC 0x6908u
#define TLV_SHA256 0x10u
#define TLV_LSEC_BUILD 0xa1u
/* Encrypted or compressed payloads: what is stored is not what would run. */
#define IMG_F_UNSUPPORTED (0x04u | 0x08u | 0x200u | 0x400u)
#define SCB_VTOR (*(volatile uint32_t *)0xe000ed08u)

static const uint8_t *const slot = (const uint8_t *)SLOT_ADDR;

static uint32_t rd16(uint32_t off)
{
	return (uint32_t)slot[off] | (uint32_t)slot[off + 1] << 8;
}

static uint32_t rd32(uint32_t off)
{
	return rd16(off) | rd16(off + 2) << 16;
}

static void attest_prefix(void)
{
	uart_puts("\r\nLSEC-ATTEST v1 ");
}

__attribute__((noreturn)) static void fail(const char *reason, const uint8_t *digest)
{
	attest_prefix();
	uart_puts("error=");
	uart_puts(reason);
	if (digest) {
		uart_puts(" digest=");
		uart_hex(digest, 32);
	}
	uart_puts("\r\n");
	halt();
}

/*
 * Walks the TLV area at off (info header included) whose info magic must be
 * magic; the area must end at or before SLOT_SIZE. Sets *end to its end and
 * the offsets of the wanted TLV's value (0 when absent). Returns a reason on
 * failure, NULL when the area is well formed.
 */
static const char *walk(uint32_t off, uint32_t magic, uint32_t want, uint32_t want_len,
			uint32_t *end, uint32_t *found)
{
	*found = 0;
	if (off + 4 > SLOT_SIZE) {
		return "bad-length";
	}
	if (rd16(off) != magic) {
		return "bad-tlv";
	}
	uint32_t tot = rd16(off + 2);
	if (tot < 4 || off + tot > SLOT_SIZE) {
		return "bad-length";
	}
	*end = off + tot;
	for (uint32_t p = off + 4; p < *end;) {
		if (p + 4 > *end) {
			return "bad-tlv";
		}
		uint32_t type = rd16(p), len = rd16(p + 2);
		if (p + 4 + len > *end) {
			return "bad-tlv";
		}
		if (type == want) {
			if (len != want_len || *found) {
				return "bad-tlv";
			}
			*found = p + 4;
		}
		p += 4 + len;
	}
	return 0;
}

void fw_main(void)
{
	uint8_t digest[32];
	fw_sha256 h;
	const char *why;
	uint32_t end, build_at = 0, hash_at = 0;

	uint32_t magic = rd32(0);
	if (magic == 0xffffffffu || magic == 0) {
		fail("empty-slot", 0);
	}
	if (magic != IMG_MAGIC) {
		fail("bad-magic", 0);
	}
	uint32_t hdr_size = rd16(8), prot_size = rd16(10), img_size = rd32(12), flags = rd32(16);
	if (hdr_size < 32 || (prot_size > 0 && prot_size < 4)) {
		fail("bad-header", 0);
	}
	if (img_size > SLOT_SIZE || hdr_size + img_size + prot_size > SLOT_SIZE) {
		fail("bad-length", 0);
	}
	if (flags & IMG_F_UNSUPPORTED) {
		fail("unsupported", 0);
	}
	uint32_t prot_at = hdr_size + img_size, hashed_end = prot_at + prot_size;
	if (prot_size) {
		why = walk(prot_at, TLV_PROT_INFO_MAGIC, TLV_LSEC_BUILD, 1, &end, &build_at);
		if (why || end != hashed_end) {
			fail(why ? why : "bad-tlv", 0);
		}
	}
	why = walk(hashed_end, TLV_INFO_MAGIC, TLV_SHA256, 32, &end, &hash_at);
	if (why) {
		fail(why, 0);
	}

	fw_sha256_init(&h);
	fw_sha256_update(&h, slot, hashed_end);
	fw_sha256_final(&h, digest);
	if (!hash_at) {
		fail("no-hash", digest);
	}
	uint8_t diff = 0;
	for (unsigned i = 0; i < 32; i++) {
		diff |= (uint8_t)(digest[i] ^ slot[hash_at + i]);
	}
	if (diff) {
		fail("hash-mismatch", digest);
	}

	/* The application's vector table follows the header. */
	uint32_t vt = SLOT_ADDR + hdr_size;
	uint32_t sp = rd32(hdr_size), pc = rd32(hdr_size + 4);
	if ((vt & 0x7fu) || sp <= RAM_BASE || sp > RAM_BASE + RAM_SIZE || (sp & 3u) || !(pc & 1u) ||
	    pc < vt || pc >= SLOT_ADDR + prot_at) {
		fail("bad-vector", digest);
	}

	attest_prefix();
	uart_puts("digest=");
	uart_hex(digest, 32);
	uart_puts(" version=");
	uart_dec(slot[20]);
	uart_putc('.');
	uart_dec(slot[21]);
	uart_putc('.');
	uart_dec(rd16(22));
	uart_putc('+');
	uart_dec(rd32(24));
	uart_puts(" build=");
	uart_puts(!build_at ? "none" : slot[build_at] == 1 ? "release" : slot[build_at] == 2 ? "debug" : "unknown");
	uart_puts(" uid=");
	const uint8_t *fi = (const uint8_t *)FACTORY_ADDR;
	uint32_t fmagic = (uint32_t)fi[16] | (uint32_t)fi[17] << 8 | (uint32_t)fi[18] << 16 |
			  (uint32_t)fi[19] << 24;
	if (fmagic == FACTORY_MAGIC) {
		uart_hex(fi, FACTORY_UID_LEN);
	} else {
		uart_puts("none");
	}
	uart_puts("\r\n");

	SCB_VTOR = vt;
	__asm__ volatile("dsb\n\tisb\n\tmsr msp, %0\n\tbx %1" : : "r"(sp), "r"(pc) : "memory");
	__builtin_unreachable();
}

/*
 * actions_debug_lock.c - SOP 4, locking the debug interfaces:
 * console.close, debug.lock, debug.verify-locked, console.verify-closed.
 *
 * The lock is a fuse: it is read before it is set, so a run interrupted
 * after the burn finds it set and only verifies. Verification is done from
 * outside the unit: after a reset a debug connection must be refused and
 * the boot report must show the console closed.
 *
 * @test tests/unit/station/test_exec.c
 */
#include "station/station_int.h"

int lsec_station__act_console_close(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	lsec_device_fuse_value v;
	LSEC_TRY(lsec_device_fuse_read(&v, r->tgt, LSEC_FUSE_UART_DISABLE, err));
	if (v.value < 1) {
		LSEC_TRY(lsec_station__attach(r, err));
		LSEC_TRY(lsec_device_fuse_set(r->tgt, LSEC_FUSE_UART_DISABLE, 1, err));
		LSEC_TRY(lsec_device_fuse_read(&v, r->tgt, LSEC_FUSE_UART_DISABLE, err));
	}
	LSEC_TRY(lsec_station__ev_int(r, "setting-readback", v.value, err));
	LSEC_ENSURE(v.value >= 1, LSEC_E_DEVICE, "the console of unit '%s' is still enabled",
		    r->serial);
out:
	return rc;
}

int lsec_station__act_debug_lock(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	lsec_device_fuse_value v;
	/* The loader allows `all` only: the one debug-lock fuse closes SWD and JTAG together. */
	LSEC_TRY(lsec_station__ev_str(r, "interface", lsec_sop_step_param(r->step, "interface"), err));
	LSEC_TRY(lsec_station__ev_str(r, "interfaces", "swd, jtag", err));
	LSEC_TRY(lsec_device_fuse_read(&v, r->tgt, LSEC_FUSE_DEBUG_LOCK, err));
	/*
	 * Level 1: locked, with the UID-bound authenticated erase kept for
	 * decommissioning; level 2 would rule that out too.
	 */
	if (v.value < 1) {
		LSEC_TRY(lsec_station__attach(r, err));
		LSEC_TRY(lsec_device_fuse_set(r->tgt, LSEC_FUSE_DEBUG_LOCK, 1, err));
		LSEC_TRY(lsec_device_fuse_read(&v, r->tgt, LSEC_FUSE_DEBUG_LOCK, err));
	}
	LSEC_TRY(lsec_station__ev_int(r, "lock-readback", v.value, err));
	LSEC_ENSURE(v.value >= 1, LSEC_E_DEVICE, "the debug lock of unit '%s' reads back open",
		    r->serial);
out:
	return rc;
}

int lsec_station__act_debug_verify(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	lsec_device_boot_report br;
	lsec_err probe = LSEC_ERR_INIT;
	unsigned level = 0;
	/* The lock takes effect at reset; then a connection attempt must be refused. */
	r->attached = false;
	/* A unit that does not boot is checked all the same, and named as not booting. */
	lsec_err boot = LSEC_ERR_INIT;
	int brc = lsec_device_reset(&br, r->tgt, &boot);
	if (brc < 0 && brc != LSEC_E_TGT_BOOT_REFUSED) {
		*err = boot;
		rc = brc;
		goto out;
	}
	LSEC_TRY(lsec_device_debug_lock_level(&level, r->tgt, err));
	int arc = lsec_device_debug_attach(r->tgt, &probe);
	LSEC_TRY(lsec_station__ev_bool(r, "connect-refused", arc == LSEC_E_TGT_ATTACH_REFUSED, err));
	LSEC_TRY(lsec_station__ev_int(r, "lock-readback", level, err));
	LSEC_TRY(lsec_station__ev_bool(r, "booted", brc == 0, err));
	LSEC_ENSURE(brc == 0, LSEC_E_DEVICE,
		    "unit '%s' did not boot after its debug port was locked (boot error %s; the "
		    "port %s a connection): the lock is not verified",
		    r->serial, lsec_device_boot_error_name(br.boot_error),
		    arc == LSEC_E_TGT_ATTACH_REFUSED ? "refused" : "accepted");
	LSEC_ENSURE(arc == LSEC_E_TGT_ATTACH_REFUSED && level >= 1, LSEC_E_DEVICE,
		    "the debug port of unit '%s' still answers (lock level %u)", r->serial, level);
out:
	return rc;
}

int lsec_station__act_console_verify(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	lsec_device_boot_report br;
	lsec_buf t = LSEC_BUF_INIT(256);
	uint8_t sha[32];
	r->attached = false;
	lsec_err boot = LSEC_ERR_INIT;
	int brc = lsec_device_reset(&br, r->tgt, &boot);
	if (brc < 0 && brc != LSEC_E_TGT_BOOT_REFUSED) {
		*err = boot;
		rc = brc;
		goto out;
	}
	LSEC_TRY(lsec_buf_printf(&t, err, "booted=%d uart_open=%d boot_error=%s\n", br.booted,
				 br.uart_open, lsec_device_boot_error_name(br.boot_error)));
	LSEC_TRY(lsec_sha256(sha, t.data, t.len, err));
	LSEC_TRY(lsec_station__ev_hex(r, "probe-transcript-sha256", sha, 32, err));
	LSEC_TRY(lsec_station__ev_bool(r, "console-open", br.uart_open, err));
	LSEC_ENSURE(brc == 0, LSEC_E_DEVICE,
		    "unit '%s' did not boot after its console was closed (boot error %s): the "
		    "console is not verified",
		    r->serial, lsec_device_boot_error_name(br.boot_error));
	LSEC_ENSURE(!br.uart_open, LSEC_E_DEVICE, "the console of unit '%s' still answers",
		    r->serial);
out:
	lsec_buf_release(&t);
	return rc;
}

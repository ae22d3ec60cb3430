/*
 * p11.c - the PKCS#11 side of the CA: a logged-in session on one token,
 * P-256 key generation and signing inside the token, and the line
 * credential key as a generic secret used with CKM_SHA256_HMAC.
 *
 * The module is loaded with dlopen (any PKCS#11 v2.20+ module; the tests use
 * SoftHSM2). Keys made here are CKA_SENSITIVE and not CKA_EXTRACTABLE: no
 * private or secret value ever leaves the token. SoftHSM2 2.6 has no
 * CKM_ECDSA_SHA256, so the host hashes and the token signs the digest with
 * CKM_ECDSA, which returns r||s; X.509 wants the DER ECDSA-Sig-Value.
 *
 * @test tests/unit/pki/test_p11.c
 */
#include "pki_int.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <p11-kit/pkcs11.h>

struct lsec_p11 {
	void *dl;
	CK_FUNCTION_LIST_PTR fn;
	bool initialized; /* holds a reference on the module's initialisation */
	CK_SESSION_HANDLE session;
};

/*
 * A module is initialised once per process however many sessions use it
 * (C_Initialize twice is an error, and C_Finalize ends every session of
 * the process): sessions count their references here, and the last one
 * out finalises. Modules are told apart by their function list.
 */
#define P11_MODULES_MAX 8
static pthread_mutex_t p11_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	CK_FUNCTION_LIST_PTR fn;
	unsigned refs;
} p11_modules[P11_MODULES_MAX];

/* Takes a reference, initialising the module on the first one. */
static CK_RV module_ref(CK_FUNCTION_LIST_PTR fn)
{
	CK_RV rv = CKR_OK;
	size_t free_slot = P11_MODULES_MAX;
	pthread_mutex_lock(&p11_lock);
	for (size_t i = 0; i < P11_MODULES_MAX; i++) {
		if (p11_modules[i].fn == fn && p11_modules[i].refs > 0) {
			p11_modules[i].refs++;
			goto out;
		}
		if (p11_modules[i].refs == 0 && free_slot == P11_MODULES_MAX) {
			free_slot = i;
		}
	}
	if (free_slot == P11_MODULES_MAX) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	CK_C_INITIALIZE_ARGS args;
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = fn->C_Initialize(&args);
	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		/*
		 * Initialised by other code in this process: theirs to finalise, so
		 * this entry holds a reference that is never dropped.
		 */
		rv = CKR_OK;
		p11_modules[free_slot].refs = 2;
	} else if (rv == CKR_OK) {
		p11_modules[free_slot].refs = 1;
	}
	if (rv == CKR_OK) {
		p11_modules[free_slot].fn = fn;
	}
out:
	pthread_mutex_unlock(&p11_lock);
	return rv;
}

/* Drops a reference, finalising the module with the last one. */
static void module_unref(CK_FUNCTION_LIST_PTR fn)
{
	pthread_mutex_lock(&p11_lock);
	for (size_t i = 0; i < P11_MODULES_MAX; i++) {
		if (p11_modules[i].fn == fn && p11_modules[i].refs > 0) {
			if (--p11_modules[i].refs == 0) {
				(void)fn->C_Finalize(NULL);
				p11_modules[i].fn = NULL;
			}
			break;
		}
	}
	pthread_mutex_unlock(&p11_lock);
}

/* DER of the prime256v1 OID: the CKA_EC_PARAMS of every key made here. */
static const uint8_t p256_params[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

/* Fills err with what failed and the token's return value. */
static int token_fail(lsec_err *err, CK_RV rv, const char *what)
{
	int code = LSEC_E_PKI_TOKEN;
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_LOCKED) {
		code = LSEC_E_AUTH;
	}
	return lsec_err_set(err, code, __FILE__, __LINE__, "token: cannot %s: CKR 0x%lx", what,
			    (unsigned long)rv);
}

#define P11_TRY(call, what)                                                    \
	do {                                                                   \
		CK_RV rv_ = (call);                                            \
		if (rv_ != CKR_OK) {                                           \
			rc = token_fail(err, rv_, (what));                     \
			goto out;                                              \
		}                                                              \
	} while (0)

/* Token labels are blank-padded to 32 bytes, not NUL-terminated. */
static bool label_is(const unsigned char padded[32], const char *want)
{
	size_t n = strlen(want);
	if (n > 32) {
		return false;
	}
	if (memcmp(padded, want, n) != 0) { /* lint:ok - a token label, not a secret */
		return false;
	}
	for (size_t i = n; i < 32; i++) {
		if (padded[i] != ' ') {
			return false;
		}
	}
	return true;
}

static int find_slot(lsec_p11 *p, const char *token_label, CK_SLOT_ID *slot_out, lsec_err *err)
{
	int rc = 0;
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0;
	P11_TRY(p->fn->C_GetSlotList(CK_TRUE, NULL, &n), "list slots");
	LSEC_ENSURE(n > 0, LSEC_E_NOTFOUND, "cannot find token '%s': no token present", token_label);
	slots = lsec_calloc(n, sizeof(*slots));
	LSEC_ENSURE(slots != NULL, LSEC_E_NOMEM, "out of memory listing token slots");
	P11_TRY(p->fn->C_GetSlotList(CK_TRUE, slots, &n), "list slots");
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO info;
		if (p->fn->C_GetTokenInfo(slots[i], &info) != CKR_OK) {
			continue;
		}
		if (label_is(info.label, token_label)) {
			*slot_out = slots[i];
			goto out;
		}
	}
	LSEC_BAIL(LSEC_E_NOTFOUND, "cannot find token '%s': no token with that label",
		  token_label);
out:
	lsec_free(slots);
	return rc;
}

int lsec_pki__p11_open(lsec_p11 **out, const char *module, const char *token_label,
		       const lsec_secret *pin, lsec_err *err)
{
	int rc = 0;
	lsec_p11 *p = NULL;
	CK_C_GetFunctionList getfl = NULL;
	CK_SLOT_ID slot = 0;
	*out = NULL;
	LSEC_ENSURE(module != NULL && token_label != NULL && pin != NULL, LSEC_E_USAGE,
		    "token access needs a module, a token label and a PIN");
	p = lsec_calloc(1, sizeof(*p));
	LSEC_ENSURE(p != NULL, LSEC_E_NOMEM, "out of memory for a token session");
	p->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	LSEC_ENSURE(p->dl != NULL, LSEC_E_IO, "cannot load PKCS#11 module '%s': %s", module,
		    dlerror());
	/* POSIX allows converting dlsym's void * to a function pointer. */
	*(void **)(&getfl) = dlsym(p->dl, "C_GetFunctionList");
	LSEC_ENSURE(getfl != NULL, LSEC_E_IO,
		    "cannot load PKCS#11 module '%s': no C_GetFunctionList", module);
	P11_TRY(getfl(&p->fn), "get the function list");
	CK_RV rv = module_ref(p->fn);
	if (rv != CKR_OK) {
		rc = token_fail(err, rv, "initialise the module");
		goto out;
	}
	p->initialized = true;
	LSEC_TRY(find_slot(p, token_label, &slot, err));
	P11_TRY(p->fn->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
				     &p->session),
		"open a session");
	/*
	 * A login holds for every session of this process on the token (PKCS#11
	 * 2.40 section 5.6): when another session already logged in, the PIN was
	 * checked then. The login ends with the last session closed, so no
	 * session logs out on its own and pulls the login from under another.
	 */
	rv = p->fn->C_Login(p->session, CKU_USER, (CK_UTF8CHAR_PTR)(uintptr_t)lsec_secret_cdata(pin),
			    (CK_ULONG)lsec_secret_len(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		rc = token_fail(err, rv, "log in to the token");
		goto out;
	}
	*out = p;
	p = NULL;
out:
	lsec_pki__p11_close(p);
	return rc;
}

void lsec_pki__p11_close(lsec_p11 *p)
{
	if (p == NULL) {
		return;
	}
	if (p->fn != NULL) {
		if (p->session != CK_INVALID_HANDLE) {
			(void)p->fn->C_CloseSession(p->session);
		}
		if (p->initialized) {
			module_unref(p->fn);
		}
	}
	if (p->dl != NULL) {
		dlclose(p->dl);
	}
	lsec_free(p);
}

/* Finds the one object of class cls labelled label; *found false if none. */
static int find_object(lsec_p11 *p, CK_OBJECT_CLASS cls, const char *label, CK_OBJECT_HANDLE *h,
		       bool *found, lsec_err *err)
{
	int rc = 0;
	bool active = false;
	CK_ULONG n = 0;
	CK_ATTRIBUTE tmpl[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_LABEL, (void *)(uintptr_t)label, strlen(label)},
	};
	*found = false;
	P11_TRY(p->fn->C_FindObjectsInit(p->session, tmpl, 2), "search the token");
	active = true;
	P11_TRY(p->fn->C_FindObjects(p->session, h, 1, &n), "search the token");
	*found = (n == 1);
out:
	if (active) {
		(void)p->fn->C_FindObjectsFinal(p->session);
	}
	return rc;
}

/* An EVP_PKEY from CKA_EC_POINT (a DER OCTET STRING holding the point). */
static int pub_from_token(lsec_p11 *p, CK_OBJECT_HANDLE pubh, EVP_PKEY **out, lsec_err *err)
{
	int rc = 0;
	uint8_t der[128];
	CK_ATTRIBUTE a = {CKA_EC_POINT, der, sizeof(der)};
	const uint8_t *q = der;
	ASN1_OCTET_STRING *os = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	*out = NULL;
	P11_TRY(p->fn->C_GetAttributeValue(p->session, pubh, &a, 1), "read the public key");
	os = d2i_ASN1_OCTET_STRING(NULL, &q, (long)a.ulValueLen);
	LSEC_TRY_OSSL_PTR(os, LSEC_E_PKI_TOKEN, "token: cannot decode the public point");
	LSEC_TRY_OSSL_PTR(bld = OSSL_PARAM_BLD_new(), LSEC_E_NOMEM, "cannot build key parameters");
	LSEC_TRY_OSSL(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
						      "prime256v1", 0),
		      LSEC_E_CRYPTO, "cannot build key parameters");
	LSEC_TRY_OSSL(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
						       ASN1_STRING_get0_data(os),
						       (size_t)ASN1_STRING_length(os)),
		      LSEC_E_CRYPTO, "cannot build key parameters");
	LSEC_TRY_OSSL_PTR(params = OSSL_PARAM_BLD_to_param(bld), LSEC_E_NOMEM,
			  "cannot build key parameters");
	LSEC_TRY_OSSL_PTR(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL), LSEC_E_CRYPTO,
			  "cannot make an EC context");
	LSEC_TRY_OSSL(EVP_PKEY_fromdata_init(ctx), LSEC_E_CRYPTO, "cannot import the public key");
	LSEC_TRY_OSSL(EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params), LSEC_E_PKI_TOKEN,
		      "token: the public point is not on P-256");
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	ASN1_OCTET_STRING_free(os);
	return rc;
}

int lsec_pki__p11_ec_generate(lsec_p11 *p, const char *label, unsigned long *key_out,
			      EVP_PKEY **pub_out, lsec_err *err)
{
	int rc = 0;
	CK_OBJECT_HANDLE pubh = CK_INVALID_HANDLE, privh = CK_INVALID_HANDLE, h;
	bool found = false;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
	size_t ln = strlen(label);
	*pub_out = NULL;
	LSEC_TRY(find_object(p, CKO_PRIVATE_KEY, label, &h, &found, err));
	LSEC_ENSURE(!found, LSEC_E_EXISTS, "cannot generate key '%s': the token already holds it",
		    label);
	CK_ATTRIBUTE pub_t[] = {
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_VERIFY, &yes, sizeof(yes)},
		{CKA_EC_PARAMS, (void *)(uintptr_t)p256_params, sizeof(p256_params)},
		{CKA_LABEL, (void *)(uintptr_t)label, ln},
		{CKA_ID, (void *)(uintptr_t)label, ln},
	};
	CK_ATTRIBUTE priv_t[] = {
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_SENSITIVE, &yes, sizeof(yes)},
		{CKA_EXTRACTABLE, &no, sizeof(no)},
		{CKA_SIGN, &yes, sizeof(yes)},
		{CKA_DERIVE, &no, sizeof(no)},
		{CKA_DECRYPT, &no, sizeof(no)},
		{CKA_UNWRAP, &no, sizeof(no)},
		{CKA_LABEL, (void *)(uintptr_t)label, ln},
		{CKA_ID, (void *)(uintptr_t)label, ln},
	};
	P11_TRY(p->fn->C_GenerateKeyPair(p->session, &mech, pub_t, sizeof(pub_t) / sizeof(pub_t[0]),
					 priv_t, sizeof(priv_t) / sizeof(priv_t[0]), &pubh, &privh),
		"generate the CA key pair");
	LSEC_TRY(pub_from_token(p, pubh, pub_out, err));
	*key_out = privh;
out:
	return rc;
}

int lsec_pki__p11_ec_find(lsec_p11 *p, const char *label, unsigned long *key_out,
			  EVP_PKEY **pub_out, lsec_err *err)
{
	int rc = 0;
	CK_OBJECT_HANDLE privh = CK_INVALID_HANDLE, pubh = CK_INVALID_HANDLE;
	bool found = false;
	*pub_out = NULL;
	LSEC_TRY(find_object(p, CKO_PRIVATE_KEY, label, &privh, &found, err));
	LSEC_ENSURE(found, LSEC_E_NOTFOUND, "cannot find key '%s' in the token", label);
	LSEC_TRY(find_object(p, CKO_PUBLIC_KEY, label, &pubh, &found, err));
	LSEC_ENSURE(found, LSEC_E_NOTFOUND, "cannot find the public half of key '%s' in the token",
		    label);
	LSEC_TRY(pub_from_token(p, pubh, pub_out, err));
	*key_out = privh;
out:
	return rc;
}

int lsec_pki__p11_ec_sign(lsec_p11 *p, unsigned long key, const uint8_t digest[32],
			  lsec_buf *sig, lsec_err *err)
{
	int rc = 0;
	CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
	uint8_t raw[64];
	CK_ULONG rawlen = sizeof(raw);
	P11_TRY(p->fn->C_SignInit(p->session, &mech, key), "start a signature");
	P11_TRY(p->fn->C_Sign(p->session, (CK_BYTE_PTR)(uintptr_t)digest, 32, raw, &rawlen),
		"sign");
	LSEC_ENSURE(rawlen == 64, LSEC_E_PKI_TOKEN,
		    "token: signature of %lu bytes, expected 64 (r||s on P-256)",
		    (unsigned long)rawlen);
	LSEC_TRY(lsec_pki__sig_raw_to_der(sig, raw, err));
out:
	lsec_wipe(raw, sizeof(raw));
	return rc;
}

int lsec_pki__p11_hmac_generate(lsec_p11 *p, const char *label, lsec_err *err)
{
	int rc = 0;
	CK_OBJECT_HANDLE h;
	bool found = false;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_ULONG len = 32;
	CK_MECHANISM mech = {CKM_GENERIC_SECRET_KEY_GEN, NULL, 0};
	size_t ln = strlen(label);
	LSEC_TRY(find_object(p, CKO_SECRET_KEY, label, &h, &found, err));
	LSEC_ENSURE(!found, LSEC_E_EXISTS,
		    "cannot generate secret '%s': the token already holds it", label);
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_VALUE_LEN, &len, sizeof(len)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_SENSITIVE, &yes, sizeof(yes)},
		{CKA_EXTRACTABLE, &no, sizeof(no)},
		{CKA_SIGN, &yes, sizeof(yes)},
		{CKA_VERIFY, &yes, sizeof(yes)},
		{CKA_ENCRYPT, &no, sizeof(no)},
		{CKA_DECRYPT, &no, sizeof(no)},
		{CKA_WRAP, &no, sizeof(no)},
		{CKA_UNWRAP, &no, sizeof(no)},
		{CKA_DERIVE, &no, sizeof(no)},
		{CKA_LABEL, (void *)(uintptr_t)label, ln},
	};
	P11_TRY(p->fn->C_GenerateKey(p->session, &mech, t, sizeof(t) / sizeof(t[0]), &h),
		"generate the credential key");
out:
	return rc;
}

int lsec_pki__p11_hmac(lsec_p11 *p, const char *label, const uint8_t *msg, size_t len,
		       uint8_t out[32], lsec_err *err)
{
	int rc = 0;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	bool found = false;
	CK_MECHANISM mech = {CKM_SHA256_HMAC, NULL, 0};
	CK_ULONG outlen = 32;
	LSEC_TRY(find_object(p, CKO_SECRET_KEY, label, &h, &found, err));
	LSEC_ENSURE(found, LSEC_E_NOTFOUND, "cannot find secret '%s' in the token", label);
	P11_TRY(p->fn->C_SignInit(p->session, &mech, h), "start an HMAC");
	P11_TRY(p->fn->C_Sign(p->session, (CK_BYTE_PTR)(uintptr_t)msg, (CK_ULONG)len, out, &outlen),
		"compute an HMAC");
	LSEC_ENSURE(outlen == 32, LSEC_E_PKI_TOKEN, "token: HMAC of %lu bytes, expected 32",
		    (unsigned long)outlen);
out:
	return rc;
}

int lsec_pki__p11_destroy(lsec_p11 *p, const char *label, lsec_err *err)
{
	int rc = 0;
	static const CK_OBJECT_CLASS classes[] = {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_SECRET_KEY};
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
		bool found = false;
		LSEC_TRY(find_object(p, classes[i], label, &h, &found, err));
		if (found) {
			P11_TRY(p->fn->C_DestroyObject(p->session, h), "remove a token object");
		}
	}
out:
	return rc;
}

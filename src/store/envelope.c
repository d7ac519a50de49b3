/* Signed envelopes (docs/store.md, "Signed envelope"): a document's exact
 * bytes in base64 and detached signatures over those bytes. The envelope is
 * the only JSON parsed before a signature check, and it carries nothing but
 * opaque bytes and signatures: the document inside is parsed by the caller,
 * after st_verify_threshold passed over the decoded bytes as they are. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "store/tuf.h"

/* obj.field: exactly 2*n lowercase hex digits, decoded into out. */
static int st_get_hex(json_t *obj, const char *field, const char *where, uint8_t *out, size_t n,
                      struct sl_error *err)
{
        char what[64];
        snprintf(what, sizeof what, "%s.%s", where, field);
        json_t *v = json_object_get(obj, field);
        if (!v)
                return sl_error_set(err, 0, "%s: missing", what);
        if (!json_is_string(v))
                return sl_error_set(err, 0, "%s: not a string", what);
        /* st_hex_decode measures with strlen: an embedded NUL fails there. */
        return st_hex_decode(json_string_value(v), out, n, what, err);
}

static int st_parse_sig(json_t *s, size_t i, struct st_sig *out, struct sl_error *err)
{
        static const char *const keys[] = {"keyid", "sig", NULL};
        char where[48];
        snprintf(where, sizeof where, "signatures[%zu]", i);
        if (!json_is_object(s))
                return sl_error_set(err, 0, "%s: not an object", where);
        if (st_json_only_keys(s, keys, where, err) < 0 ||
            st_get_hex(s, "keyid", where, out->keyid, ST_PK_BYTES, err) < 0 ||
            st_get_hex(s, "sig", where, out->sig, ST_SIG_BYTES, err) < 0)
                return -1;
        return 0;
}

static int st_envelope_parse_json(json_t *root, struct st_envelope *out, struct sl_error *err)
{
        static const char *const keys[] = {"signed", "signatures", NULL};
        if (!json_is_object(root))
                return sl_error_set(err, 0, "not a JSON object");
        if (st_json_only_keys(root, keys, "", err) < 0)
                return -1;
        json_t *s = json_object_get(root, "signed");
        if (!s)
                return sl_error_set(err, 0, "signed: missing");
        if (!json_is_string(s))
                return sl_error_set(err, 0, "signed: not a string");
        if (st_base64_decode(json_string_value(s), json_string_length(s), &out->signed_bytes,
                             "signed", err) < 0)
                return -1;
        json_t *sigs = st_json_get_array(root, "signatures", "", ST_TUF_MAX_SIGS, err);
        if (!sigs)
                return -1;
        out->sigs = calloc(json_array_size(sigs) + 1, sizeof *out->sigs);
        if (!out->sigs)
                return sl_error_set(err, ENOMEM, "signatures");
        for (size_t i = 0; i < json_array_size(sigs); i++) {
                if (st_parse_sig(json_array_get(sigs, i), i, &out->sigs[i], err) < 0)
                        return -1;
                out->n_sigs = i + 1;
        }
        return 0;
}

int st_envelope_parse(const void *bytes, size_t len, struct st_envelope *out, struct sl_error *err)
{
        memset(out, 0, sizeof *out);
        _cleanup_json_ json_t *root = st_json_parse(bytes, len, "envelope", err);
        if (!root)
                return -1;
        if (st_envelope_parse_json(root, out, err) < 0) {
                st_envelope_free(out);
                return sl_error_prefix(err, "envelope");
        }
        return 0;
}

char *st_envelope_encode(const struct st_envelope *env, struct sl_error *err)
{
        _cleanup_free_ char *b64 = st_base64_encode(env->signed_bytes.data, env->signed_bytes.len);
        _cleanup_json_ json_t *sigs = json_array();
        if (!b64 || !sigs) {
                sl_error_set(err, ENOMEM, "encode envelope");
                return NULL;
        }
        for (size_t i = 0; i < env->n_sigs; i++) {
                char keyid[2 * ST_PK_BYTES + 1], sig[2 * ST_SIG_BYTES + 1];
                st_hex_encode(env->sigs[i].keyid, ST_PK_BYTES, keyid);
                st_hex_encode(env->sigs[i].sig, ST_SIG_BYTES, sig);
                if (json_array_append_new(sigs,
                                          json_pack("{s:s,s:s}", "keyid", keyid, "sig", sig)) < 0) {
                        sl_error_set(err, ENOMEM, "encode envelope");
                        return NULL;
                }
        }
        _cleanup_json_ json_t *root = json_pack("{s:s,s:O}", "signed", b64, "signatures", sigs);
        char *text = root ? json_dumps(root, JSON_PRESERVE_ORDER | JSON_INDENT(1)) : NULL;
        if (!text) {
                sl_error_set(err, ENOMEM, "encode envelope");
                return NULL;
        }
        /* A text file ends with a newline; the envelope is not signed, so
         * its layout is free. */
        size_t n = strlen(text);
        char *out = realloc(text, n + 2);
        if (!out) {
                free(text);
                sl_error_set(err, ENOMEM, "encode envelope");
                return NULL;
        }
        out[n] = '\n';
        out[n + 1] = 0;
        return out;
}

int st_envelope_sign(struct st_envelope *env, const uint8_t sk[ST_SK_BYTES], struct sl_error *err)
{
        struct st_sig s;
        if (st_sign(env->signed_bytes.data, env->signed_bytes.len, sk, &s, err) < 0)
                return -1;
        /* Signing again with a key replaces its signature: one key, one
         * signature (and the verifier counts a key once anyway). */
        for (size_t i = 0; i < env->n_sigs; i++) {
                if (memcmp(env->sigs[i].keyid, s.keyid, ST_PK_BYTES) == 0) {
                        env->sigs[i] = s;
                        return 0;
                }
        }
        if (env->n_sigs >= ST_TUF_MAX_SIGS)
                return sl_error_set(err, 0, "envelope: already %d signatures", ST_TUF_MAX_SIGS);
        struct st_sig *p = realloc(env->sigs, (env->n_sigs + 1) * sizeof *p);
        if (!p)
                return sl_error_set(err, ENOMEM, "sign envelope");
        p[env->n_sigs++] = s;
        env->sigs = p;
        return 0;
}

void st_envelope_free(struct st_envelope *env)
{
        if (!env)
                return;
        st_buf_free(&env->signed_bytes);
        free(env->sigs);
        env->sigs = NULL;
        env->n_sigs = 0;
}

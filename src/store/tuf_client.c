/* The client update (docs/store.md, "Client update", TUF specification §5):
 * root chain, timestamp, snapshot, targets, then each package on demand.
 *
 * Everything is checked in memory first and written to the trust directory
 * only when the whole refresh passed, so a refused refresh leaves the trust
 * directory exactly as it was. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "store/tuf_meta.h"

/* A document as fetched or kept: the file's bytes and its envelope. */
struct st_doc {
        struct st_buf file;
        struct st_envelope env;
};

static void st_doc_free(struct st_doc *d)
{
        st_buf_free(&d->file);
        st_envelope_free(&d->env);
}

/* The state of one refresh: what the trust directory held, replaced role
 * by role as newer documents pass. */
struct st_refresh {
        struct st_root root;
        struct st_doc root_doc;
        int root_changed;
        struct st_timestamp ts;
        struct st_doc ts_doc;
        int have_ts;
        struct st_snapshot snap;
        struct st_doc snap_doc;
        int have_snap;
        struct st_targets targets;
        struct st_doc targets_doc;
        int have_targets;
};

static void st_refresh_free(struct st_refresh *r)
{
        st_root_free(&r->root);
        st_doc_free(&r->root_doc);
        st_doc_free(&r->ts_doc);
        st_doc_free(&r->snap_doc);
        st_targets_free(&r->targets);
        st_doc_free(&r->targets_doc);
}

static const char *st_time_str(time_t t, char buf[ST_TIME_STR])
{
        st_time_format(t, buf);
        return buf;
}

static int st_check_expiry(time_t expires, time_t now, const char *label, struct sl_error *err)
{
        char when[ST_TIME_STR];
        /* A document past its expiry is what an attacker replays to keep a
         * client on old metadata forever. */
        if (now >= expires)
                return sl_error_set(err, 0, "%s: expired at %s (freeze)", label,
                                    st_time_str(expires, when));
        return 0;
}

static int st_verify_role(const struct st_envelope *env, const struct st_role *role, time_t now,
                          const char *label, struct sl_error *err)
{
        if (st_verify_threshold(env->signed_bytes.data, env->signed_bytes.len, env->sigs,
                                env->n_sigs, role->keys, role->n_keys, role->threshold, now,
                                err) < 0)
                return sl_error_prefix(err, "%s", label);
        return 0;
}

/* Download rel, at most cap bytes; an ENOENT from the fetcher stays one. */
static int st_fetch_doc(const struct st_tuf_fetcher *f, const char *rel, uint64_t cap,
                        const char *label, struct st_doc *d, struct sl_error *err)
{
        if (f->fetch(f->ctx, rel, cap, &d->file, err) < 0)
                return sl_error_prefix(err, "%s", label);
        /* The fetcher promised the cap; a broken one must not get past it. */
        if (d->file.len > cap)
                return sl_error_set(err, EFBIG, "%s: `%s` is more than %llu bytes (size cap)",
                                    label, rel, (unsigned long long)cap);
        return 0;
}

/* Length and hash of a fetched file against what the referring document
 * says, before a byte of it is parsed. */
static int st_check_ref(const struct st_doc *d, const struct st_meta_ref *ref, const char *label,
                        const char *referrer, struct sl_error *err)
{
        if (d->file.len != ref->length)
                return sl_error_set(err, 0, "%s: %zu bytes, the %s says %llu (mix-and-match)",
                                    label, d->file.len, referrer, (unsigned long long)ref->length);
        char h[ST_HASH_HEX];
        st_hash_bytes(d->file.data, d->file.len, h);
        if (strcmp(h, ref->hash) != 0)
                return sl_error_set(err, 0, "%s: hash %s, the %s says %s (mix-and-match)", label, h,
                                    referrer, ref->hash);
        return 0;
}

static int st_parse_env(struct st_doc *d, const char *label, struct sl_error *err)
{
        if (st_envelope_parse(d->file.data, d->file.len, &d->env, err) < 0)
                return sl_error_prefix(err, "%s", label);
        return 0;
}

/* A new version is never older than the trusted one, and the same version
 * comes with the same signed bytes. */
static int st_check_version(uint64_t version, const struct st_doc *d, int have_kept,
                            uint64_t kept_version, const struct st_doc *kept, const char *label,
                            struct sl_error *err)
{
        if (!have_kept)
                return 0;
        if (version < kept_version)
                return sl_error_set(err, 0,
                                    "%s: version %llu is older than the trusted version %llu "
                                    "(rollback)",
                                    label, (unsigned long long)version,
                                    (unsigned long long)kept_version);
        if (version == kept_version && d &&
            (d->env.signed_bytes.len != kept->env.signed_bytes.len ||
             memcmp(d->env.signed_bytes.data, kept->env.signed_bytes.data,
                    d->env.signed_bytes.len) != 0))
                return sl_error_set(err, 0,
                                    "%s: version %llu is the trusted version with other content "
                                    "(rollback)",
                                    label, (unsigned long long)version);
        return 0;
}

/* Read trust_dir/name if present (*present = 0 when missing). */
static int st_kept_read(int dirfd, const char *name, size_t cap, struct st_doc *d, int *present,
                        struct sl_error *err)
{
        *present = 0;
        if (st_read_file_at(dirfd, name, cap, &d->file, err) < 0) {
                if (err && err->code == ENOENT)
                        return 0;
                return sl_error_prefix(err, "trust");
        }
        if (st_envelope_parse(d->file.data, d->file.len, &d->env, err) < 0)
                return sl_error_prefix(err, "trust `%s`", name);
        *present = 1;
        return 0;
}

/* The trust directory: root.json must be there (pinned out of band). The
 * kept timestamp, snapshot and targets passed their checks when they were
 * stored and are only read for their versions; they are not verified again
 * (a rotated key would otherwise make them unreadable, and the rotation
 * step decides separately which of them to forget). */
static int st_load_trusted(int dirfd, struct st_refresh *r, struct sl_error *err)
{
        int present;
        if (st_kept_read(dirfd, "root.json", ST_TUF_ROOT_MAX, &r->root_doc, &present, err) < 0)
                return -1;
        if (!present)
                return sl_error_set(err, ENOENT, "trust `root.json`: no trusted root");
        const struct st_buf *b = &r->root_doc.env.signed_bytes;
        if (st_root_parse(b->data, b->len, "trust `root.json`", &r->root, err) < 0)
                return -1;
        /* The pinned root must at least be signed by its own root role;
         * key windows are not applied here: they limit what a key may sign
         * from now on, not whether the anchor is one. */
        struct st_role self = {0};
        if (st_role_copy(&self, &r->root.roles[ST_TUF_ROOT], err) < 0)
                return -1;
        for (size_t i = 0; i < self.n_keys; i++)
                self.keys[i].not_before = self.keys[i].expires = 0;
        int rc = st_verify_role(&r->root_doc.env, &self, 0, "trust `root.json`", err);
        st_role_free(&self);
        if (rc < 0)
                return -1;

        if (st_kept_read(dirfd, "timestamp.json", ST_TUF_TIMESTAMP_MAX, &r->ts_doc, &r->have_ts,
                         err) < 0)
                return -1;
        b = &r->ts_doc.env.signed_bytes;
        if (r->have_ts &&
            st_timestamp_parse(b->data, b->len, "trust `timestamp.json`", &r->ts, err) < 0)
                return -1;
        if (st_kept_read(dirfd, "snapshot.json", ST_TUF_META_MAX, &r->snap_doc, &r->have_snap,
                         err) < 0)
                return -1;
        b = &r->snap_doc.env.signed_bytes;
        if (r->have_snap &&
            st_snapshot_parse(b->data, b->len, "trust `snapshot.json`", &r->snap, err) < 0)
                return -1;
        if (st_kept_read(dirfd, "targets.json", ST_TUF_META_MAX, &r->targets_doc, &r->have_targets,
                         err) < 0)
                return -1;
        b = &r->targets_doc.env.signed_bytes;
        if (r->have_targets &&
            st_targets_parse(b->data, b->len, "trust `targets.json`", NULL, &r->targets, err) < 0)
                return -1;
        return 0;
}

/* One step of the root chain: root/<N+1>.json signed by the threshold of
 * the trusted root's root role and of its own, with exactly version N+1.
 * Returns 1 when there was one, 0 at the end of the chain. */
static int st_root_step(const struct st_tuf_fetcher *f, struct st_refresh *r, time_t now,
                        struct sl_error *err)
{
        unsigned long long cur = r->root.version, next = cur + 1;
        char label[48], rel[48];
        snprintf(label, sizeof label, "root %llu", next);
        snprintf(rel, sizeof rel, "root/%llu.json", next);
        struct st_doc d = {0};
        if (st_fetch_doc(f, rel, ST_TUF_ROOT_MAX, label, &d, err) < 0) {
                st_doc_free(&d);
                return err && err->code == ENOENT ? 0 : -1;
        }
        struct st_root nr = {0};
        char who[64];
        snprintf(who, sizeof who, "%s: root %llu's keys", label, cur);
        /* The old root vouches for the new one before its JSON is parsed. */
        if (st_parse_env(&d, label, err) < 0 ||
            st_verify_role(&d.env, &r->root.roles[ST_TUF_ROOT], now, who, err) < 0 ||
            st_root_parse(d.env.signed_bytes.data, d.env.signed_bytes.len, label, &nr, err) < 0)
                goto fail;
        if (nr.version != next) {
                sl_error_set(err, 0, "%s: version %llu, not the next version %llu", label,
                             (unsigned long long)nr.version, next);
                goto fail;
        }
        /* ... and the new root's own keys agree: a rotation needs both the
         * old and the new key holders. */
        snprintf(who, sizeof who, "%s: its own keys", label);
        if (st_verify_role(&d.env, &nr.roles[ST_TUF_ROOT], now, who, err) < 0)
                goto fail;
        st_root_free(&r->root);
        st_doc_free(&r->root_doc);
        r->root = nr;
        r->root_doc = d;
        r->root_changed = 1;
        return 1;
fail:
        st_root_free(&nr);
        st_doc_free(&d);
        return -1;
}

static int st_update_root(const struct st_tuf_fetcher *f, struct st_refresh *r, time_t now,
                          struct sl_error *err)
{
        struct st_role old_ts = {0}, old_snap = {0};
        if (st_role_copy(&old_ts, &r->root.roles[ST_TUF_TIMESTAMP], err) < 0 ||
            st_role_copy(&old_snap, &r->root.roles[ST_TUF_SNAPSHOT], err) < 0)
                goto fail;
        /* Bounded: a repository serving root versions without end would
         * otherwise keep us here (TUF's max_root_rotations). The next
         * refresh continues from where this one stopped. */
        for (int i = 0; i < ST_TUF_MAX_ROOT_ROTATIONS; i++) {
                int rc = st_root_step(f, r, now, err);
                if (rc < 0)
                        goto fail;
                if (rc == 0)
                        break;
        }
        char label[48];
        snprintf(label, sizeof label, "root %llu", (unsigned long long)r->root.version);
        if (st_check_expiry(r->root.expires, now, label, err) < 0)
                goto fail;
        /* Fast-forward recovery: versions remembered from documents signed
         * by keys the root no longer trusts may have been pushed up by
         * whoever stole those keys; they would block the real ones forever.
         * The bound on the targets version goes with the snapshot that
         * vouched for it (TUF §5.5.5 checks targets against the trusted
         * snapshot, which §5.3.11 deletes): the new snapshot key, which the
         * thief does not hold, now names the targets version. */
        if (!st_role_same_keys(&old_ts, &r->root.roles[ST_TUF_TIMESTAMP]) ||
            !st_role_same_keys(&old_snap, &r->root.roles[ST_TUF_SNAPSHOT])) {
                r->have_ts = r->have_snap = r->have_targets = 0;
                st_doc_free(&r->ts_doc);
                st_doc_free(&r->snap_doc);
                st_doc_free(&r->targets_doc);
                st_targets_free(&r->targets);
        }
        st_role_free(&old_ts);
        st_role_free(&old_snap);
        return 0;
fail:
        st_role_free(&old_ts);
        st_role_free(&old_snap);
        return -1;
}

static int st_update_timestamp(const struct st_tuf_fetcher *f, struct st_refresh *r, time_t now,
                               struct sl_error *err)
{
        const char *label = "timestamp";
        struct st_doc d = {0};
        struct st_timestamp ts;
        if (st_fetch_doc(f, "timestamp.json", ST_TUF_TIMESTAMP_MAX, label, &d, err) < 0 ||
            st_parse_env(&d, label, err) < 0 ||
            st_verify_role(&d.env, &r->root.roles[ST_TUF_TIMESTAMP], now, label, err) < 0 ||
            st_timestamp_parse(d.env.signed_bytes.data, d.env.signed_bytes.len, label, &ts, err) <
                0 ||
            st_check_version(ts.version, &d, r->have_ts, r->ts.version, &r->ts_doc, label, err) <
                0 ||
            st_check_expiry(ts.expires, now, label, err) < 0) {
                st_doc_free(&d);
                return -1;
        }
        st_doc_free(&r->ts_doc);
        r->ts_doc = d;
        r->ts = ts;
        r->have_ts = 1;
        return 0;
}

static int st_update_snapshot(const struct st_tuf_fetcher *f, struct st_refresh *r, time_t now,
                              struct sl_error *err)
{
        const char *label = "snapshot";
        const struct st_meta_ref *ref = &r->ts.snapshot;
        /* Checked before the download: an older snapshot is refused even
         * when the repository no longer serves it. */
        if (st_check_version(ref->version, NULL, r->have_snap, r->snap.version, NULL, label, err) <
            0)
                return -1;
        char rel[48];
        snprintf(rel, sizeof rel, "snapshot/%llu.json", (unsigned long long)ref->version);
        struct st_doc d = {0};
        struct st_snapshot s;
        if (st_fetch_doc(f, rel, ref->length, label, &d, err) < 0 ||
            st_check_ref(&d, ref, label, "timestamp", err) < 0 ||
            st_parse_env(&d, label, err) < 0 ||
            st_verify_role(&d.env, &r->root.roles[ST_TUF_SNAPSHOT], now, label, err) < 0 ||
            st_snapshot_parse(d.env.signed_bytes.data, d.env.signed_bytes.len, label, &s, err) < 0)
                goto fail;
        if (s.version != ref->version) {
                sl_error_set(err, 0, "%s: version %llu, the timestamp says %llu (mix-and-match)",
                             label, (unsigned long long)s.version,
                             (unsigned long long)ref->version);
                goto fail;
        }
        if (st_check_version(s.version, &d, r->have_snap, r->snap.version, &r->snap_doc, label,
                             err) < 0 ||
            st_check_expiry(s.expires, now, label, err) < 0)
                goto fail;
        st_doc_free(&r->snap_doc);
        r->snap_doc = d;
        r->snap = s;
        r->have_snap = 1;
        return 0;
fail:
        st_doc_free(&d);
        return -1;
}

static int st_update_targets(const struct st_tuf_fetcher *f, struct st_refresh *r, time_t now,
                             struct sl_error *err)
{
        const char *label = "targets";
        const struct st_meta_ref *ref = &r->snap.targets;
        if (st_check_version(ref->version, NULL, r->have_targets, r->targets.version, NULL, label,
                             err) < 0)
                return -1;
        char rel[48];
        snprintf(rel, sizeof rel, "targets/%llu.json", (unsigned long long)ref->version);
        struct st_doc d = {0};
        struct st_targets t = {0};
        if (st_fetch_doc(f, rel, ref->length, label, &d, err) < 0 ||
            st_check_ref(&d, ref, label, "snapshot", err) < 0 || st_parse_env(&d, label, err) < 0 ||
            st_verify_role(&d.env, &r->root.roles[ST_TUF_TARGETS], now, label, err) < 0 ||
            st_targets_parse(d.env.signed_bytes.data, d.env.signed_bytes.len, label, &r->root, &t,
                             err) < 0)
                goto fail;
        if (t.version != ref->version) {
                sl_error_set(err, 0, "%s: version %llu, the snapshot says %llu (mix-and-match)",
                             label, (unsigned long long)t.version,
                             (unsigned long long)ref->version);
                goto fail;
        }
        if (st_check_version(t.version, &d, r->have_targets, r->targets.version, &r->targets_doc,
                             label, err) < 0 ||
            st_check_expiry(t.expires, now, label, err) < 0)
                goto fail;
        st_doc_free(&r->targets_doc);
        st_targets_free(&r->targets);
        r->targets_doc = d;
        r->targets = t;
        r->have_targets = 1;
        return 0;
fail:
        st_targets_free(&t);
        st_doc_free(&d);
        return -1;
}

/* Replace trust_dir/name unless it holds these bytes already. */
static int st_keep(int dirfd, const char *name, const struct st_doc *d, struct sl_error *err)
{
        struct st_buf old = {0};
        struct sl_error ignored;
        int same = st_read_file_at(dirfd, name, d->file.len, &old, &ignored) == 0 &&
                   old.len == d->file.len && memcmp(old.data, d->file.data, old.len) == 0;
        st_buf_free(&old);
        if (same)
                return 0;
        if (st_write_atomic_at(dirfd, name, d->file.data, d->file.len, 0644, err) < 0)
                return sl_error_prefix(err, "trust");
        return 0;
}

/* Targets, snapshot, timestamp, then root: should we crash in between,
 * every kept file is one that passed (versions only move up), and a root
 * not yet written means the next refresh walks the rotation again and
 * forgets again what a key rotation made untrustworthy. */
static int st_commit(int dirfd, const struct st_refresh *r, struct sl_error *err)
{
        if (st_keep(dirfd, "targets.json", &r->targets_doc, err) < 0 ||
            st_keep(dirfd, "snapshot.json", &r->snap_doc, err) < 0 ||
            st_keep(dirfd, "timestamp.json", &r->ts_doc, err) < 0)
                return -1;
        if (r->root_changed && st_keep(dirfd, "root.json", &r->root_doc, err) < 0)
                return -1;
        return 0;
}

int st_tuf_refresh(const char *trust_dir, const struct st_tuf_fetcher *f, time_t now,
                   struct st_targets *out, struct sl_error *err)
{
        memset(out, 0, sizeof *out);
        /* The steps tell "not found" from other failures by err->code. */
        struct sl_error local;
        if (!err)
                err = &local;
        _cleanup_close_ int dirfd = open(trust_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return sl_error_errno(err, "trust directory `%s`", trust_dir);
        struct st_refresh r = {0};
        int rc = -1;
        if (st_load_trusted(dirfd, &r, err) < 0 || st_update_root(f, &r, now, err) < 0 ||
            st_update_timestamp(f, &r, now, err) < 0 || st_update_snapshot(f, &r, now, err) < 0 ||
            st_update_targets(f, &r, now, err) < 0 || st_commit(dirfd, &r, err) < 0)
                goto out;
        *out = r.targets;
        memset(&r.targets, 0, sizeof r.targets);
        rc = 0;
out:
        st_refresh_free(&r);
        return rc;
}

const struct st_target *st_targets_find(const struct st_targets *t, const char *name,
                                        const char *version)
{
        const struct st_target *best = NULL;
        for (size_t i = 0; i < t->n_packages; i++) {
                const struct st_target *p = &t->packages[i];
                if (strcmp(p->name, name) != 0)
                        continue;
                if (version && *version) {
                        if (strcmp(p->version, version) == 0)
                                return p;
                } else if (!best || st_version_cmp(p->version, best->version) > 0) {
                        best = p;
                }
        }
        return best;
}

static const struct st_signers *st_signers_for(const struct st_targets *t, const char *name)
{
        const struct st_signers *any = NULL;
        for (size_t i = 0; i < t->n_signers; i++) {
                if (strcmp(t->signers[i].name, name) == 0)
                        return &t->signers[i];
                if (strcmp(t->signers[i].name, "*") == 0)
                        any = &t->signers[i];
        }
        return any;
}

static int st_verify_package_env(const struct st_targets *t, const struct st_target *target,
                                 const struct st_envelope *env, time_t now, struct sl_error *err)
{
        const struct st_signers *s = st_signers_for(t, target->name);
        if (!s)
                return sl_error_set(err, 0, "no signers for `%s` and no `*` entry", target->name);
        /* Root's revocations apply to package signers too, whatever the
         * targets document lists. */
        struct st_role role = {0};
        if (st_role_copy(&role, &s->role, err) < 0)
                return -1;
        st_role_apply_revoked(&role, (const uint8_t(*)[ST_PK_BYTES])t->revoked, t->n_revoked);
        char who[ST_NAME_MAX + 16];
        snprintf(who, sizeof who, "signers `%s`", s->name);
        int rc = st_verify_role(env, &role, now, who, err);
        st_role_free(&role);
        return rc;
}

int st_tuf_verify_package(const struct st_targets *t, const struct st_target *target,
                          const void *pkg_bytes, size_t len, time_t now, struct st_manifest *out,
                          struct sl_error *err)
{
        memset(out, 0, sizeof *out);
        char label[ST_NAME_MAX + ST_VERSION_MAX + 16];
        snprintf(label, sizeof label, "package %s@%s", target->name, target->version);
        if (len != target->length)
                return sl_error_set(err, 0, "%s: %zu bytes, targets says %llu (wrong software)",
                                    label, len, (unsigned long long)target->length);
        char h[ST_HASH_HEX];
        st_hash_bytes(pkg_bytes, len, h);
        if (strcmp(h, target->hash) != 0)
                return sl_error_set(err, 0, "%s: hash %s, targets says %s (wrong software)", label,
                                    h, target->hash);
        struct st_envelope env;
        if (st_envelope_parse(pkg_bytes, len, &env, err) < 0)
                return sl_error_prefix(err, "%s", label);
        int rc = -1;
        if (st_verify_package_env(t, target, &env, now, err) < 0 ||
            st_manifest_parse(env.signed_bytes.data, env.signed_bytes.len, out, err) < 0)
                goto out;
        if (strcmp(out->name, target->name) != 0 || strcmp(out->version, target->version) != 0) {
                sl_error_set(err, 0, "the manifest is %s@%s", out->name, out->version);
                st_manifest_free(out);
                goto out;
        }
        rc = 0;
out:
        st_envelope_free(&env);
        if (rc < 0)
                sl_error_prefix(err, "%s", label);
        return rc;
}

/* dpkg's verrevcmp over [a, ae) and [b, be): non-digit runs compare
 * character by character (letters before non-letters, `~` before
 * everything, even the end), digit runs numerically. */
static int st_order(const char *p, const char *end)
{
        if (p == end)
                return 0;
        unsigned char c = (unsigned char)*p;
        if (isdigit(c))
                return 0;
        if (isalpha(c))
                return c;
        if (c == '~')
                return -1;
        return c + 256;
}

static int st_verrevcmp(const char *a, const char *ae, const char *b, const char *be)
{
#define DIGIT(p, e) ((p) < (e) && isdigit((unsigned char)*(p)))
        while (a < ae || b < be) {
                while ((a < ae && !DIGIT(a, ae)) || (b < be && !DIGIT(b, be))) {
                        int ac = st_order(a, ae), bc = st_order(b, be);
                        if (ac != bc)
                                return ac < bc ? -1 : 1;
                        a++;
                        b++;
                }
                while (a < ae && *a == '0')
                        a++;
                while (b < be && *b == '0')
                        b++;
                int first_diff = 0;
                while (DIGIT(a, ae) && DIGIT(b, be)) {
                        if (!first_diff)
                                first_diff = *a - *b;
                        a++;
                        b++;
                }
                if (DIGIT(a, ae))
                        return 1;
                if (DIGIT(b, be))
                        return -1;
                if (first_diff)
                        return first_diff < 0 ? -1 : 1;
        }
        return 0;
#undef DIGIT
}

int st_version_cmp(const char *a, const char *b)
{
        /* dpkg splits the Debian revision off at the last `-` and compares
         * the upstream parts first ("1+b-1" is above "1-1"). */
        const char *ae = a + strlen(a), *be = b + strlen(b);
        const char *ar = strrchr(a, '-'), *br = strrchr(b, '-');
        const char *au = ar ? ar : ae, *bu = br ? br : be;
        int c = st_verrevcmp(a, au, b, bu);
        if (c)
                return c;
        return st_verrevcmp(ar ? ar + 1 : ae, ae, br ? br + 1 : be, be);
}

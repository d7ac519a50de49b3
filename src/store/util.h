/* Small helpers every part of the store shares: byte buffers, strict JSON
 * field access (errors name the field), hex and base64, RFC 3339 times, and
 * the atomic replace of a file (write aside, fsync, rename, fsync the
 * directory) that every transaction step is built from. */
#ifndef ST_UTIL_H
#define ST_UTIL_H

#include <dirent.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "lib/error.h"

/* A heap buffer of bytes; data is NUL-terminated one past len, so text
 * documents can be handed to string functions. */
struct st_buf {
        uint8_t *data;
        size_t len;
};
void st_buf_free(struct st_buf *b);
int st_buf_set(struct st_buf *b, const void *data, size_t len, struct sl_error *err);
#define _cleanup_buf_ __attribute__((cleanup(st_buf_free)))

void st_json_decrefp(json_t **j);
#define _cleanup_json_ __attribute__((cleanup(st_json_decrefp)))

/* Field access for strict schemas. `where` is the path of obj in the
 * document ("" at the top, "archives[1]"); messages read
 * "archives[1].hash: missing". */
int st_json_only_keys(json_t *obj, const char *const *allowed, const char *where,
                      struct sl_error *err);
int st_json_get_str(json_t *obj, const char *field, const char *where, char *out, size_t cap,
                    struct sl_error *err);
/* A JSON integer in [0, max]. */
int st_json_get_u64(json_t *obj, const char *field, const char *where, uint64_t max, uint64_t *out,
                    struct sl_error *err);
/* An array of at most max entries. */
json_t *st_json_get_array(json_t *obj, const char *field, const char *where, size_t max,
                          struct sl_error *err);
/* Parse a document: duplicate keys refused, errors "LABEL:LINE:COLUMN: text". */
json_t *st_json_parse(const void *bytes, size_t len, const char *label, struct sl_error *err);

/* Lowercase hex. out must hold 2*len+1. */
void st_hex_encode(const uint8_t *in, size_t len, char *out);
/* Exactly 2*len lowercase hex digits, else -1 (message names `what`). */
int st_hex_decode(const char *hex, uint8_t *out, size_t len, const char *what,
                  struct sl_error *err);
/* A 64-digit lowercase hex BLAKE2b-256 digest? */
int st_is_hash_hex(const char *s);

/* Standard base64 with padding (libsodium's ORIGINAL variant). */
char *st_base64_encode(const uint8_t *in, size_t len);
int st_base64_decode(const char *in, size_t in_len, struct st_buf *out, const char *what,
                     struct sl_error *err);

/* RFC 3339 UTC times, exactly "YYYY-MM-DDTHH:MM:SSZ". */
#define ST_TIME_STR 21
int st_time_parse(const char *s, time_t *out, const char *what, struct sl_error *err);
void st_time_format(time_t t, char out[ST_TIME_STR]);

/* Read a whole file of at most max bytes (more is an error naming path). */
int st_read_file(const char *path, size_t max, struct st_buf *out, struct sl_error *err);
int st_read_file_at(int dirfd, const char *path, size_t max, struct st_buf *out,
                    struct sl_error *err);

/* Replace dirfd/name atomically with these bytes: a fresh file
 * "name.tmp-XXXXXX" in the same directory, written, fsync'd, renamed over
 * name, then the directory fsync'd. A crash leaves the old or the new file
 * (and perhaps a .tmp- file, which readers ignore). */
int st_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                       struct sl_error *err);
int st_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                    struct sl_error *err);

/* write() all len bytes, across short writes and EINTR; -1 with errno. */
int st_write_all(int fd, const void *data, size_t len);

/* Open the directory dirfd/path for reading (NULL with errno; ENOENT is
 * left for the caller to judge). */
DIR *st_opendir_at(int dirfd, const char *path);

/* fsync a directory by path or fd. */
int st_fsync_dir_at(int dirfd, const char *path, struct sl_error *err);

#endif

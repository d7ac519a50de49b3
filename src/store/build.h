/* Building a package from a directory (`slicectl pkg build DIR`): the
 * archives, reproducibly, and the unsigned manifest envelope.
 * docs/store.md, "Package build directory", is the format. */
#ifndef ST_BUILD_H
#define ST_BUILD_H

#include <stddef.h>

#include "lib/error.h"

/* Package directories nest at most this deep below an archive's root: the
 * walk holds one directory fd per level. */
#define ST_BUILD_MAX_DEPTH 128
/* zstd level of every archive. Fixed, since the level is part of what makes
 * the bytes (and so the hash) reproducible; 19 is the highest level
 * without --ultra, whose larger windows cost every reader memory. */
#define ST_BUILD_ZSTD_LEVEL "19"

/* Read dir/package.json
 *   {"name", "version", "dependencies": [{"name", "version"}],
 *    "archives": ["SUBDIR", ...], optional "slice": {"command": [...]}}
 * (unknown fields refused, errors "DIR/package.json: archives[1]: `x` is
 * not a directory"), pack each listed subdirectory of dir into a tar + zstd
 * archive and store it as out_dir/archives/<BLAKE2b-256>.tar.zst (kept as
 * is when that file exists: same hash, same bytes), then write the manifest
 * {"name", "version", "archives": [{"hash", "size"}] in the listed order,
 * "dependencies", "slice"} inside an envelope with no signatures to
 * out_dir/NAME@VERSION.pkg. out_dir is created if missing (one level).
 * pkg_path gets that path.
 *
 * Archives are reproducible: entries sorted bytewise in each directory, a
 * directory before its contents; owner 0:0 without names; mtime 0 and no
 * other times; modes kept but the group and other write bits cleared; no
 * extended attributes; hardlinked files stored as separate files. The same
 * contents give the same hash whoever builds them, whenever.
 *
 * Refused, each naming the path (the store's unpacker refuses them too):
 * devices, fifos, sockets, setuid/setgid/sticky bits, symlinks whose target
 * is absolute or climbs above the archive's root. */
int st_pkg_build(const char *dir, const char *out_dir, char *pkg_path, size_t pkg_path_cap,
                 struct sl_error *err);

#endif

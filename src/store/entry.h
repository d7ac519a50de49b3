/* Internal to src/store: the checks st_unpack runs on each tar header. */
#ifndef ST_ENTRY_H
#define ST_ENTRY_H

#include <archive_entry.h>
#include <stdint.h>

#include "store/store.h"

struct st_unpack_tally {
        uint64_t entries;
        uint64_t bytes; /* declared sizes of regular files so far */
};

/* Components of path other than ".", or -1 when one is "..". */
int st_path_depth(const char *path);

/* 1 when the relative symlink target, resolved from the directory holding
 * entry_path, stays inside the root even if names in it are in-tree
 * symlinks: ".." is allowed only at the start and never above the root. */
int st_symlink_stays_inside(const char *entry_path, const char *target);

/* 0 when the entry may be written; otherwise -1 and a message naming it. */
int st_check_entry(struct archive_entry *e, const struct st_limits *lim, struct st_unpack_tally *t,
                   struct sl_error *err);

#endif

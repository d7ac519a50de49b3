/* libslice — the library a native slice links.
 *
 * Seccomp stage two. A slice run under the `strict` profile starts with a
 * stage-one filter the supervisor installed just before execve: it allows
 * what the dynamic loader and libc start-up need (read-only opens, mmap with
 * PROT_EXEC, ...). Before main() runs, libslice's constructor tightens it:
 * when the environment variable SLICE_SECCOMP is "strict" it installs the
 * builtin `strict-tight` program, after which the process can no longer open
 * files, create sockets, execute programs or map new executable memory; it
 * talks over the descriptors it was given. The constructor removes
 * SLICE_SECCOMP from the environment, and if tightening fails it prints one
 * line to stderr and exits with status 125: a slice never runs main() under
 * a weaker filter than it was started for. docs/seccomp.md lists what
 * `strict-tight` allows.
 *
 * Static linking: a constructor in a static library only runs if its object
 * file is linked, which happens when something refers to it. Including this
 * header makes every translation unit refer to it (sl__seccomp_stage2_anchor
 * below), so a slice that includes <slice/slice.h> gets stage two whether it
 * links libslice.a or libslice.so.
 */
#ifndef SLICE_SLICE_H
#define SLICE_SLICE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Install the `strict-tight` filter on every thread of this process now
 * (sets no_new_privs first; idempotent: a second call returns 0). For slices
 * that prefer to say where tightening happens, e.g. after opening what main()
 * needs when they run without SLICE_SECCOMP. Returns 0 or -errno. */
int sl_seccomp_tighten(void);

/* Defined next to the constructor; see "Static linking" above. */
extern const int sl_seccomp_stage2_linked;
__attribute__((used)) static const int *const sl__seccomp_stage2_anchor = &sl_seccomp_stage2_linked;

#ifdef __cplusplus
}
#endif

#endif

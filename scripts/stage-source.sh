# shellcheck shell=bash
# Sourced by scripts/build-deb.sh and scripts/build-rpm.sh: copy the source
# tree to a staging directory for a package build.

# sliced_project_version SRC: the VERSION of project(sliced ...) in SRC/CMakeLists.txt.
sliced_project_version() {
  sed -n 's/^project(sliced VERSION \([0-9][0-9.]*\).*/\1/p' "$1/CMakeLists.txt"
}

# sliced_stage_source SRC DEST: copy the files git knows in SRC (tracked,
# minus those deleted in the work tree, plus untracked files .gitignore does
# not exclude) to DEST; without git, everything but build*/, .state/ and .git/.
# The copy includes uncommitted changes: a package of what is in the tree.
sliced_stage_source() {
  local src=$1 dest=$2
  mkdir -p "$dest"
  if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$src" && git ls-files -z --cached --others --exclude-standard |
       while IFS= read -r -d '' f; do
         if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
       done | tar --null -T - -cf -) | tar -xf - -C "$dest"
  else
    (cd "$src" && tar --exclude='./build*' --exclude=./.state --exclude=./.git -cf - .) |
      tar -xf - -C "$dest"
  fi
  # packaging/CMakeLists.txt holds the install rules the packages need; until
  # the top-level CMakeLists.txt adds it, add it in the staged copy.
  if ! grep -q '^[[:space:]]*add_subdirectory(packaging)' "$dest/CMakeLists.txt"; then
    echo "stage-source: note: CMakeLists.txt lacks add_subdirectory(packaging); added in the staged copy" >&2
    printf '\nadd_subdirectory(packaging)\n' >> "$dest/CMakeLists.txt"
  fi
}

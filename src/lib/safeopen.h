/* safeopen.h - opening files that a container controls.
 *
 * Every path a container chose (an executable's path, a script operand) is
 * resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) below a
 * directory descriptor of the container process's root or working directory,
 * so absolute symlinks and ".." stay inside the container and /proc magic links
 * cannot reach the host. Opens are O_NONBLOCK | O_NOCTTY (a FIFO or a terminal
 * neither blocks nor becomes the agent's), and only regular files are kept.
 */
#ifndef CW_SAFEOPEN_H
#define CW_SAFEOPEN_H

#include <stdint.h>
#include <sys/types.h>

/* O_PATH descriptor of /proc/<pid>/<what> ("root", "cwd"): the directory itself,
 * usable after the process exits. Never traverses a container path. */
int cw_proc_dir(const char *proc_root, int pid, const char *what);

/* The executable of process pid, opened read-only and non-blocking through
 * /proc/<pid>/exe (memfd and deleted files too). An fd or a negative errno. */
int cw_proc_exe(int pid);

/* The file process pid has mapped at addr (a mapping's start), through
 * /proc/<pid>/map_files: the very inode mapped, deleted or renamed since, as
 * long as the process lives. Kept only if it is a regular file with inode ino
 * (no open of anything else happens); read-only, non-blocking. Needs
 * CAP_SYS_ADMIN. An fd or a negative errno (-ENOENT: no such mapping). */
int cw_proc_map_file(int pid, uint64_t addr, uint64_t ino);

/* Open path (absolute names from dirfd as the root, relative ones from dirfd)
 * read-only; -EINVAL for an empty path, -CW_ENOTREG (util.h) when the result is
 * not a regular file, else the open's negative errno. */
int cw_open_beneath(int dirfd, const char *path);

/* Human words for the errors above ("not a regular file", ...). */
const char *cw_open_error(int err);

#endif

/* layer.bpf.h - part of exec.bpf.c: where the executed file came from, for
 * the added/modified binary detectors. On overlayfs (the image's read-only
 * lower layers under the container's writable upper layer) the overlay inode
 * says it: a file with an upper copy and no lower one was added after the
 * container started; one with both was modified (copied up). For any other
 * root (a plain directory), user space compares the file's times with the
 * start of the container's init, read here as the pid namespace's reaper.
 * Only for execs that already go to user space: nothing on the hot path.
 */
#ifndef CW_LAYER_BPF_H
#define CW_LAYER_BPF_H

#define CW_OVERLAYFS_MAGIC 0x794c7630

/* Local views of overlayfs' private types (fs/overlayfs/ovl_entry.h),
 * relocated against the running kernel's BTF; absent types turn the
 * overlay check off (bpf_core_type_exists). */
struct ovl_entry___cw {
	unsigned int __numlower;
} __attribute__((preserve_access_index));

struct ovl_inode___cw {
	struct inode vfs_inode;
	struct dentry *__upperdentry;
	struct ovl_entry___cw *oe;
} __attribute__((preserve_access_index));

/* CW_F_OVL, CW_F_UPPER and CW_F_LOWER of the executed file. Probe reads:
 * the overlay inode is reached by container_of, not by a BTF pointer. */
static __always_inline void put_layer(struct cw_event *e, struct file *file)
{
	struct inode *inode = file->f_inode;
	struct ovl_inode___cw *oi;
	struct ovl_entry___cw *oe;

	if (!bpf_core_type_exists(struct ovl_inode___cw) ||
	    inode->i_sb->s_magic != CW_OVERLAYFS_MAGIC)
		return;
	oi = (void *)((char *)inode - bpf_core_field_offset(struct ovl_inode___cw, vfs_inode));
	e->flags |= CW_F_OVL;
	if (BPF_CORE_READ(oi, __upperdentry))
		e->flags |= CW_F_UPPER;
	oe = BPF_CORE_READ(oi, oe);
	if (oe && BPF_CORE_READ(oe, __numlower) > 0)
		e->flags |= CW_F_LOWER;
}

/* Start (boot clock) of the init of the task's pid namespace: the
 * container's first process, 0 when unreadable. */
static __always_inline __u64 ns_init_start(struct pid *tp, unsigned int level)
{
	struct task_struct *reaper = BPF_CORE_READ(tp, numbers[level & 31].ns, child_reaper);

	return reaper ? BPF_CORE_READ(reaper, start_boottime) : 0;
}

#endif

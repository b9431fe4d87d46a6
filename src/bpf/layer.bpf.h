/* layer.bpf.h - where an executed or mapped file came from, for the
 * added/modified binary (exec.bpf.c) and library (lib.bpf.h) detectors. On overlayfs (the image's
 * read-only lower layers under the container's writable upper layer) the overlay inode says it: a
 * file with an upper copy and no lower one was added after the container started; one with both was
 * modified (copied up). For any other root (a plain directory), user space compares the file's
 * times with the start of the container's init, read here as the pid namespace's reaper. Only for
 * execs that already go to user space: nothing on the hot path.
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

#define CW_LAYER_OVL   1u /* the file is on overlayfs: the next two are valid */
#define CW_LAYER_UPPER 2u /* it has a copy in the writable upper layer */
#define CW_LAYER_LOWER 4u /* it has a copy in a lower (image) layer */

/* CW_LAYER_* of an inode whose superblock magic is magic. Probe reads: the
 * overlay inode is reached by container_of, not by a BTF pointer. */
static __always_inline __u32 ovl_layers(struct inode *inode, __u32 magic)
{
	struct ovl_inode___cw *oi;
	struct ovl_entry___cw *oe;
	__u32 bits = CW_LAYER_OVL;

	if (!bpf_core_type_exists(struct ovl_inode___cw) || magic != CW_OVERLAYFS_MAGIC)
		return 0;
	oi = (void *)((char *)inode - bpf_core_field_offset(struct ovl_inode___cw, vfs_inode));
	if (BPF_CORE_READ(oi, __upperdentry))
		bits |= CW_LAYER_UPPER;
	oe = BPF_CORE_READ(oi, oe);
	if (oe && BPF_CORE_READ(oe, __numlower) > 0)
		bits |= CW_LAYER_LOWER;
	return bits;
}

#ifdef CW_EVENT_H
/* CW_F_OVL, CW_F_UPPER and CW_F_LOWER of the executed file. */
static __always_inline void put_layer(struct cw_event *e, struct file *file)
{
	struct inode *inode = file->f_inode;
	__u32 bits = ovl_layers(inode, inode->i_sb->s_magic);

	if (bits & CW_LAYER_OVL)
		e->flags |= CW_F_OVL;
	if (bits & CW_LAYER_UPPER)
		e->flags |= CW_F_UPPER;
	if (bits & CW_LAYER_LOWER)
		e->flags |= CW_F_LOWER;
}
#endif

/* Start (boot clock) of the init of the task's pid namespace: the
 * container's first process, 0 when unreadable. */
static __always_inline __u64 ns_init_start(struct pid *tp, unsigned int level)
{
	struct task_struct *reaper = BPF_CORE_READ(tp, numbers[level & 31].ns, child_reaper);

	return reaper ? BPF_CORE_READ(reaper, start_boottime) : 0;
}

#endif

/* tiny.c - the exec target of the bench storm: a static program without libc
 * that exits 0 at its first instruction, so a storm measures the cost of
 * fork+execve+exit+wait and of whatever monitors execs, not the program's own
 * start-up (a static glibc `int main(void) { return 0; }` costs ~3x more per
 * exec here and would hide a monitor's overhead). Built with
 * `cc -static -O2 -nostdlib`. The storm also runs a copy of it under a known
 * tool's name (a look-alike) to time detections. */
#if defined(__x86_64__)
void _start(void)
{
	__asm__ volatile("mov $60, %eax\n\txor %edi, %edi\n\tsyscall");
}
#elif defined(__aarch64__)
void _start(void)
{
	__asm__ volatile("mov x8, #93\n\tmov x0, #0\n\tsvc #0");
}
#else
#error "tiny.c: add the exit syscall for this architecture"
#endif

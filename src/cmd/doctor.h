/* doctor.h - the node checks of `cagewatch doctor`, for the agent too. */
#ifndef CW_DOCTOR_H
#define CW_DOCTOR_H

/* The checks that the agent's own start does not already make, as one log
 * line: info when all pass, a warning naming each missing one otherwise. */
void cw_doctor_log_summary(void);

#endif

/*
 * Between the registry (registry.c) and remediate's own families
 * (remediate.c): the registry tells the families when it was emptied.
 */
#ifndef METRICS_INT_H
#define METRICS_INT_H

/* Called by metrics_shutdown: remediate.c registers its families anew. */
void	metrics_forget_own(void);

#endif /* METRICS_INT_H */

/*
 * The lists of the core Kubernetes schemas that merge by key (the
 * patchMergeKey of a strategic-merge patch, the listMapKeys of
 * server-side apply): containers by name, ports by containerPort and
 * protocol...  Every other list is atomic.  gitops reads it to tell which
 * fields a write owns, action to apply a strategic-merge patch the way
 * the API server will, before policies see the object.
 */
#ifndef UTIL_LISTS_H
#define UTIL_LISTS_H

/*
 * Is field (a member name: "containers", "env", "ports"...) a list keyed
 * by its elements' fields?  1 with *keys (static; two entries, the second
 * NULL when one field is the key), else 0.
 */
int	util_list_keys(const char *field, const char *const **keys);

#endif /* UTIL_LISTS_H */

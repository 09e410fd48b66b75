/*
 * Kyverno's `images` variable: every container image of the object's Pod
 * spec, parsed, by container name:
 *
 *   images.containers.NAME / initContainers.NAME / ephemeralContainers.NAME
 *     = {registry, name, path, tag, digest, reference, referenceWithTag}
 *
 * The Pod spec is the object's own for a Pod, spec.template.spec for the
 * other Pod controllers and spec.jobTemplate.spec.template.spec for a
 * CronJob (Kyverno's default image extractors).  Parsing follows Kyverno's
 * pkg/utils/image GetImageInfo with its default configuration: an image
 * without a registry is in docker.io (and a one-segment path is under
 * library/), no tag and no digest is tag latest.  Without this variable a
 * rule on `images.containers.*.registry` would read null and never deny.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/pol_int.h"

#define DEFAULT_REGISTRY	"docker.io"

/* Whether the part before the first '/' names a registry, as Kyverno's
 * addDefaultRegistry decides (a '.' or ':', localhost, or upper case). */
static int
has_registry(const char *image)
{
	const char *slash = strchr(image, '/'), *p;

	if (slash == NULL)
		return 0;
	for (p = image; p < slash; p++)
		if (*p == '.' || *p == ':' || isupper((unsigned char)*p))
			return 1;
	return slash - image == 9 && strncmp(image, "localhost", 9) == 0;
}

/* One image reference as Kyverno's ImageInfo; new reference. */
static json_t *
image_info(const char *image)
{
	char *full, *registry, *rest, *at, *colon, *slash, *path, *with;
	const char *tag = "", *digest = "", *name;
	json_t *o;

	full = has_registry(image) ? xstrdup(image) :
	    xasprintf("%s/%s", DEFAULT_REGISTRY, image);
	slash = strchr(full, '/');
	registry = xstrndup(full, (size_t)(slash - full));
	rest = slash + 1;
	if ((at = strchr(rest, '@')) != NULL) {
		*at = '\0';
		digest = at + 1;
	}
	slash = strrchr(rest, '/');
	if ((colon = strrchr(slash ? slash : rest, ':')) != NULL) {
		*colon = '\0';
		tag = colon + 1;
	}
	if (*tag == '\0' && *digest == '\0')
		tag = "latest";
	name = strrchr(rest, '/') ? strrchr(rest, '/') + 1 : rest;
	with = xasprintf("%s/%s:%s", registry, rest, tag);
	path = strchr(rest, '/') ? xstrdup(rest) : xasprintf("library/%s",
	    rest);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "registry", registry,
	    "name", name, "path", path, "referenceWithTag", with,
	    "tag", tag, "digest", digest);
	json_object_set_new(o, "reference", *digest ?
	    json_sprintf("%s/%s@%s", registry, path, digest) :
	    json_sprintf("%s/%s:%s", registry, path, tag));
	/* Kyverno leaves tag and digest out when empty */
	if (*tag == '\0')
		json_object_del(o, "tag");
	if (*digest == '\0')
		json_object_del(o, "digest");
	free(full);
	free(registry);
	free(path);
	free(with);
	return o;
}

/* The Pod spec the default extractors read for the object's kind. */
static json_t *
pod_spec(json_t *object)
{
	const char *kind = json_string_value(json_object_get(object, "kind"));
	json_t *spec = json_object_get(object, "spec");

	if (kind == NULL)
		return NULL;
	if (strcmp(kind, "Pod") == 0)
		return spec;
	if (strcmp(kind, "CronJob") == 0)
		spec = json_object_get(json_object_get(spec, "jobTemplate"),
		    "spec");
	return json_object_get(json_object_get(spec, "template"), "spec");
}

json_t *
pol_images(json_t *object)
{
	static const char *const lists[] = { "containers", "initContainers",
	    "ephemeralContainers" };
	json_t *spec = pod_spec(object), *out = NULL, *by, *c;
	const char *name, *image;
	size_t i, j;

	if (!json_is_object(spec))
		return NULL;
	for (i = 0; i < UTIL_ARRAY_LEN(lists); i++) {
		by = NULL;
		json_array_foreach(json_object_get(spec, lists[i]), j, c) {
			name = json_string_value(json_object_get(c, "name"));
			image = json_string_value(json_object_get(c, "image"));
			if (name == NULL || image == NULL || *image == '\0')
				continue;
			if (by == NULL)
				by = json_object();
			json_object_set_new(by, name, image_info(image));
		}
		if (by == NULL)
			continue;
		if (out == NULL)
			out = json_object();
		json_object_set_new(out, lists[i], by);
	}
	return out;
}

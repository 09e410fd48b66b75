/*
 * Messages: what a decision says to the people who own the workload.
 *
 * Slack's incoming-webhook JSON is the lingua franca (Mattermost,
 * Rocket.Chat, Google Chat bridges and most chat relays accept it): a
 * plain `text` that every receiver shows, and `blocks` for Slack's
 * richer layout: the decision and target, what changed (or would have,
 * for notify, dry-run and confirm: the same plan auto would run), the
 * reason of a suppression, links, and for a pending approval an Approve
 * button.  The button and links lead to pages, not actions: opening
 * /approve/ID shows what would happen and asks to confirm (chat clients
 * fetch links to preview them; a GET must never approve).
 *
 * A plain webhook gets the decision record itself with the same text and
 * links, for receivers that want to do their own thing.
 */
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"
#include "sensor/sensor.h"

#define MAX_TEXT	3000	/* Slack's limit for a section's text */

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* "Deployment shop/checkout" of an objref JSON; owned. */
static char *
ref_text(json_t *ref)
{
	const char *ns = str(ref, "namespace");

	if (!json_is_object(ref))
		return xstrdup("(no target)");
	return xasprintf("%s %s%s%s", str(ref, "kind") ? str(ref, "kind") :
	    "?", ns ? ns : "", ns ? "/" : "", str(ref, "name") ?
	    str(ref, "name") : "?");
}

/* What the plan does, in words; owned, or NULL when there is no plan. */
static char *
plan_text(json_t *plan)
{
	const char *type = str(plan, "type"), *ns = str(plan, "namespace");

	if (!json_is_object(plan))
		return NULL;
	if (str(plan, "summary"))
		return xstrdup(str(plan, "summary"));
	if (type && strcmp(type, "http") == 0)
		return xasprintf("send %s to the http trigger's URL",
		    str(plan, "method") ? str(plan, "method") : "POST");
	return xasprintf("%s %s %s%s%s", str(plan, "operation") ?
	    str(plan, "operation") : "send", str(plan, "kind") ?
	    str(plan, "kind") : "object", ns ? ns : "", ns ? "/" : "",
	    str(plan, "name") ? str(plan, "name") : "");
}

char *
notify_summary(const struct notify_msg *m)
{
	json_t *r = m->record;
	const char *d = str(r, "decision"), *why = str(r, "message");
	char *what = plan_text(json_object_get(r, "plan")), *out;

	if (d == NULL)
		d = "decided";
	if (strcmp(d, "acted") == 0)
		out = xasprintf("acted: %s", what ? what : why ? why :
		    "the action was sent");
	else if (strcmp(d, "dry-run") == 0 || strcmp(d, "notified") == 0 ||
	    strcmp(d, "pending-approval") == 0)
		out = xasprintf("%s: would %s", strcmp(d, "pending-approval") ==
		    0 ? "pending approval" : d, what ? what : why ? why :
		    "act");
	else if (strcmp(d, "suppressed") == 0)
		out = xasprintf("suppressed (%s): %s", str(r, "reason") ?
		    str(r, "reason") : "?", why ? why : "");
	else if (strcmp(d, "failed") == 0)
		out = xasprintf("failed: %s%s%s", what ? what : "",
		    what ? ": " : "", why ? why : "");
	else
		out = xasprintf("%s: %s", d, why ? why : what ? what : "");
	free(what);
	return out;
}

/* Slack mrkdwn needs &, < and > escaped (its own link syntax). */
static char *
esc(const char *s)
{
	struct buf b;

	buf_init(&b, MAX_TEXT);
	for (; s && *s; s++) {
		if (*s == '&')
			buf_adds(&b, "&amp;");
		else if (*s == '<')
			buf_adds(&b, "&lt;");
		else if (*s == '>')
			buf_adds(&b, "&gt;");
		else
			buf_addc(&b, *s);
	}
	return buf_steal(&b);
}

static json_t *
field(const char *title, const char *value)
{
	char *v = esc(value), *t = xasprintf("*%s*\n%s", title, v);
	json_t *f = json_pack("{s:s, s:s}", "type", "mrkdwn", "text", t);

	free(v);
	free(t);
	return f;
}

/* The configured links, rendered over the record; owned {name: url}. */
static json_t *
links(const struct notify_config *c, const struct notify_msg *m)
{
	json_t *out = json_object();
	char *u, *err = NULL;
	size_t i;

	if (m->approval_url)
		json_object_set_new(out, "approve", json_string(
		    m->approval_url));
	for (i = 0; i < c->nlinks; i++) {
		if ((u = sensor_render(c->links[i].tmpl, m->record, &err)) ==
		    NULL) {
			/* a link that cannot render is left out */
			free(err);
			err = NULL;
			continue;
		}
		if (*u)
			json_object_set_new(out, c->links[i].name,
			    json_string(u));
		free(u);
	}
	return out;
}

static const char *
headline(const char *decision)
{
	static const struct {
		const char *d, *h;
	} tab[] = {
		{ "acted", ":white_check_mark: remediated" },
		{ "failed", ":x: remediation failed" },
		{ "dry-run", ":mag: dry run" },
		{ "notified", ":bell: would remediate" },
		{ "pending-approval", ":raised_hand: approval needed" },
		{ "suppressed", ":no_entry: suppressed" },
		{ "demoted", ":arrow_down: trigger demoted to notify" },
	};
	size_t i;

	for (i = 0; decision && i < UTIL_ARRAY_LEN(tab); i++)
		if (strcmp(tab[i].d, decision) == 0)
			return tab[i].h;
	return "remediate";
}

static json_t *
slack(const struct notify_config *c, const struct notify_dest *d,
    const struct notify_msg *m, const char *summary, const char *target,
    const char *owner, json_t *lk)
{
	json_t *r = m->record, *blocks = json_array(), *fields, *ctx, *o,
	    *buttons = NULL, *v;
	const char *trigger = str(r, "trigger"), *k;
	char *text, *s, *subject = NULL, *head, *what;

	(void)c;
	head = xasprintf("%s: %s", headline(str(r, "decision")),
	    trigger ? trigger : "");
	json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s, s:b}}",
	    "type", "header", "text", "type", "plain_text", "text", head,
	    "emoji", 1));
	fields = json_array();
	json_array_append_new(fields, field("Decision", str(r, "decision") ?
	    str(r, "decision") : "?"));
	json_array_append_new(fields, field("Target", target));
	if (str(r, "reason"))
		json_array_append_new(fields, field("Reason", str(r,
		    "reason")));
	if (owner)
		json_array_append_new(fields, field("Owner", owner));
	if (json_is_object(json_object_get(r, "subject"))) {
		subject = ref_text(json_object_get(r, "subject"));
		json_array_append_new(fields, field("Signal about", subject));
	}
	json_array_append_new(blocks, json_pack("{s:s, s:o}", "type",
	    "section", "fields", fields));
	what = plan_text(json_object_get(r, "plan"));
	s = esc(what ? what : summary);
	text = xasprintf("*What %s*\n%s", str(r, "decision") && strcmp(str(r,
	    "decision"), "acted") == 0 ? "changed" : what ? "would change" :
	    "happened", s);
	free(s);
	free(what);
	json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s}}", "type",
	    "section", "text", "type", "mrkdwn", "text", text));
	free(text);
	json_object_foreach(lk, k, v) {
		if (buttons == NULL)
			buttons = json_array();
		o = json_pack("{s:s, s:{s:s, s:s}, s:O}", "type", "button",
		    "text", "type", "plain_text", "text", strcmp(k,
		    "approve") == 0 ? "Review and approve" : k, "url", v);
		if (strcmp(k, "approve") == 0)
			json_object_set_new(o, "style", json_string("primary"));
		json_array_append_new(buttons, o);
	}
	if (buttons)
		json_array_append_new(blocks, json_pack("{s:s, s:o}", "type",
		    "actions", "elements", buttons));
	s = xasprintf("%s · sensor %s · %s", str(r, "time") ? str(r, "time") :
	    "", str(r, "sensor") ? str(r, "sensor") : "?", m->approval_url ?
	    "approve within the link's lifetime; it works once" :
	    "remediate");
	ctx = json_pack("{s:s, s:[{s:s, s:s}]}", "type", "context", "elements",
	    "type", "mrkdwn", "text", s);
	free(s);
	json_array_append_new(blocks, ctx);
	text = xasprintf("[remediate] %s: %s (%s)%s%s", trigger ? trigger :
	    "?", summary, target, m->approval_url ? " approve: " : "",
	    m->approval_url ? m->approval_url : "");
	o = json_pack("{s:s, s:o}", "text", text, "blocks", blocks);
	free(text);
	if (d && d->channel)
		json_object_set_new(o, "channel", json_string(d->channel));
	if (d && d->username)
		json_object_set_new(o, "username", json_string(d->username));
	if (d && d->icon_emoji)
		json_object_set_new(o, "icon_emoji", json_string(
		    d->icon_emoji));
	free(subject);
	free(head);
	return o;
}

json_t *
notify_payload(const struct notify_config *c, const struct notify_dest *d,
    const struct notify_msg *m)
{
	char *summary = notify_summary(m);
	char *target = ref_text(json_object_get(m->record, "target"));
	const char *owner = notify_owner(c, m->target, m->subject);
	json_t *lk = links(c, m), *out;

	if (d == NULL || d->format == NOTIFY_SLACK)
		out = slack(c, d, m, summary, target, owner, lk);
	else
		out = json_pack("{s:s, s:s?, s:O, s:O, s:s?}", "text", summary,
		    "owner", owner, "decision", m->record, "links", lk,
		    "approvalURL", m->approval_url);
	json_decref(lk);
	free(summary);
	free(target);
	return out;
}

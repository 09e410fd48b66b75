/*
 * util/quantity: parsing every suffix, the canonical form Kubernetes
 * prints, comparison and arithmetic, as tables.
 */
#include <string.h>

#include "harness.h"
#include "util/quantity.h"

static const struct { const char *in, *want; } canon[] = {
	{ "0", "0" }, { "0Mi", "0" }, { "1", "1" }, { "+5", "5" },
	{ "1000", "1k" }, { "1000k", "1M" }, { "1.0", "1" }, { "5.", "5" },
	{ ".5", "500m" }, { "0.5", "500m" }, { "1.5", "1500m" },
	{ "1500m", "1500m" }, { "0.1", "100m" }, { "-1.5", "-1500m" },
	{ "100M", "100M" }, { "123456789", "123456789" }, { "1n", "1n" },
	{ "1u", "1u" }, { "1000u", "1m" }, { "2G", "2G" }, { "3T", "3T" },
	{ "4P", "4P" }, { "5E", "5E" }, { "0.0000000001", "1n" },
	{ "1.0000000001", "1000000001n" }, { "-0.0000000001", "-1n" },
	{ "1Ki", "1Ki" }, { "1024", "1024" }, { "1Gi", "1Gi" },
	{ "1024Mi", "1Gi" }, { "1536Mi", "1536Mi" }, { "1.5Gi", "1536Mi" },
	{ "100Ki", "100Ki" }, { "0.5Ki", "512" }, { "512Ki", "512Ki" },
	{ "2Ti", "2Ti" }, { "3Pi", "3Pi" }, { "7Ei", "7Ei" },
	{ "1.1Ki", "1126400m" }, { "1e3", "1e3" }, { "1E3", "1e3" },
	{ "1.5e3", "1500" }, { "12e-3", "12e-3" }, { "10e3", "10e3" },
	{ "1e-9", "1e-9" }, { "1e+6", "1e6" }, { "129e6", "129e6" },
};

static const char *const bad[] = {
	"", "Ki", "1.2.3", "1Kb", "1 Ki", "abc", "1e", "--1", "1.5x", ".",
	"e3", "1ki", "1K", "+", "-", "1e+", "1e999", "8Ei",
	"1234567890123456789012345678901234567890",
};

TEST(canonical_form)
{
	struct quantity q;
	char out[QUANTITY_FMTLEN];
	size_t i;

	for (i = 0; i < sizeof canon / sizeof canon[0]; i++) {
		CHECK_INT(quantity_parse(canon[i].in, &q), 0);
		quantity_format(&q, out, sizeof out);
		CHECK_STR(out, canon[i].want);
	}
}

TEST(rejects_malformed)
{
	struct quantity q;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (quantity_parse(bad[i], &q) != -1)
			fprintf(stderr, "accepted \"%s\"\n", bad[i]);
		CHECK_INT(quantity_parse(bad[i], &q), -1);
	}
}

static const struct { const char *a, *op, *b, *want; } arith[] = {
	{ "1Gi", "+", "512Mi", "1536Mi" }, { "1", "+", "500m", "1500m" },
	{ "100m", "-", "200m", "-100m" }, { "0", "+", "1Gi", "1Gi" },
	{ "2Gi", "-", "2Gi", "0" }, { "1k", "+", "1", "1001" },
	{ "1Gi", "*", "1.25", "1280Mi" }, { "8Gi", "*", "1.25", "10Gi" },
	{ "1500m", "*", "2", "3" }, { "100Mi", "*", "0.5", "50Mi" },
	{ "10Gi", "/", "2", "5Gi" }, { "1", "/", "3", "0" },
	{ "1.5", "/", "2", "700m" }, { "3Gi", "/", "4", "768Mi" },
	{ "1e3", "+", "1e3", "2e3" },
};

TEST(arithmetic)
{
	struct quantity a, b, r;
	char out[QUANTITY_FMTLEN];
	size_t i;
	int rc;

	for (i = 0; i < sizeof arith / sizeof arith[0]; i++) {
		CHECK_INT(quantity_parse(arith[i].a, &a), 0);
		CHECK_INT(quantity_parse(arith[i].b, &b), 0);
		switch (arith[i].op[0]) {
		case '+': rc = quantity_add(&r, &a, &b); break;
		case '-': rc = quantity_sub(&r, &a, &b); break;
		case '*': rc = quantity_mul(&r, &a, &b); break;
		default: rc = quantity_div(&r, &a, &b); break;
		}
		CHECK_INT(rc, 0);
		quantity_format(&r, out, sizeof out);
		CHECK_STR(out, arith[i].want);
	}
	CHECK_INT(quantity_parse("0", &b), 0);
	CHECK_INT(quantity_div(&r, &a, &b), -1);
	CHECK_INT(quantity_parse("7Ei", &a), 0);
	CHECK_INT(quantity_add(&r, &a, &a), -1);
}

static const struct { const char *a, *b; int want; } cmp[] = {
	{ "1Gi", "1073741824", 0 }, { "1k", "999", 1 }, { "500m", "1", -1 },
	{ "1e3", "1k", 0 }, { "-1", "0", -1 }, { "1n", "0", 1 },
	{ "1E", "1n", 1 }, { "1.5Gi", "1536Mi", 0 },
};

TEST(compare)
{
	struct quantity a, b;
	size_t i;

	for (i = 0; i < sizeof cmp / sizeof cmp[0]; i++) {
		CHECK_INT(quantity_parse(cmp[i].a, &a), 0);
		CHECK_INT(quantity_parse(cmp[i].b, &b), 0);
		CHECK_INT(quantity_cmp(&a, &b), cmp[i].want);
		CHECK_INT(quantity_cmp(&b, &a), -cmp[i].want);
	}
}

TEST(from_double_and_back)
{
	struct quantity q;
	char out[QUANTITY_FMTLEN];
	int64_t v;

	CHECK_INT(quantity_from_double(1.25, &q), 0);
	quantity_format(&q, out, sizeof out);
	CHECK_STR(out, "1250m");
	CHECK_INT(quantity_from_double(0.1, &q), 0);
	quantity_format(&q, out, sizeof out);
	CHECK_STR(out, "100m");
	CHECK_INT(quantity_from_double(1e21, &q), 0);
	CHECK(quantity_to_double(&q) == 1e21);
	CHECK_INT(quantity_from_double(1.0 / 0.0, &q), -1);
	CHECK_INT(quantity_parse("1536Mi", &q), 0);
	CHECK_INT(quantity_to_int64(&q, &v), 0);
	CHECK_INT(v, 1610612736);
	CHECK_INT(quantity_parse("2500m", &q), 0);
	CHECK_INT(quantity_to_int64(&q, &v), 0);
	CHECK_INT(v, 2);
	CHECK(quantity_to_double(&q) == 2.5);
}

int
main(void)
{
	RUN(canonical_form);
	RUN(rejects_malformed);
	RUN(arithmetic);
	RUN(compare);
	RUN(from_double_and_back);
	return harness_done();
}

# Modules a fuzz target reaches beyond its own module's deps
# (fuzz/MOD_fuzz.c links module MOD, its deps, and these).
fuzz_webhook_EXTRA :=

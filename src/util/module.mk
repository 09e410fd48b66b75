util_DEPS :=

jp_DEPS := util

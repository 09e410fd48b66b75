conf_DEPS := util

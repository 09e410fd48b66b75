approve_DEPS := util http

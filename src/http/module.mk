http_DEPS := util

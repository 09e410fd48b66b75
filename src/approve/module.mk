approve_DEPS := util http sqldb

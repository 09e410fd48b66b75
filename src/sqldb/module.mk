sqldb_DEPS := util

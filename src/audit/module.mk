audit_DEPS := util conf cluster record guard metrics page sqldb jp schedule signal prom

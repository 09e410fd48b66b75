policy_DEPS := util jp conf

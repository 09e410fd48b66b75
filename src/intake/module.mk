intake_DEPS := util conf cluster record signal metrics sqldb

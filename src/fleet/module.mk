fleet_DEPS := util conf guard sqldb

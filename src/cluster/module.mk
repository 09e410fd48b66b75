cluster_DEPS := util conf

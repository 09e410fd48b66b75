gitops_DEPS := util

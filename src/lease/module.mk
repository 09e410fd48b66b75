lease_DEPS := util conf kube guard

lease_DEPS := util conf kube

engine_DEPS := util conf cluster signal sensor guard policy jp action record kube notify gitops

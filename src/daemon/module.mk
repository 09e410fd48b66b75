daemon_DEPS := util pool conf cluster signal sensor guard policy jp action record engine kube http prom webhook metrics schedule audit page notify approve intake gitops lease sqldb fleet

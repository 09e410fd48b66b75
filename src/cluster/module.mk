cluster_DEPS := util conf
# tests/unit/test_cluster_decode.c tests decode.c against project.c
cluster_decode_DEPS := cluster util conf

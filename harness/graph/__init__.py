"""The Sparse DNN Graph Challenge as a workload ("Performance of Training Sparse Deep Neural
Networks on GPUs"; "Sparse Deep Neural Network Graph Challenge").

    radixnet   RadiX-Net networks (1024 … 65536 neurons × 120/480/1920 layers) as the official
               files lay them out, built layer by layer on access, cached on disk
    tsv        the official TSV files from a local path (layers, sparse images, categories)
    inputs     MNIST images resampled to √N × √N and thresholded, or the official images
    network    the layer rule and the SciPy reference whose categories are the truth
    engines    one layer in SciPy, torch.sparse, CuPy, dense torch
    variants   the registry of runnable variants (plain, buffer, filter; CPU and CUDA)
    bench      timing, verification against the reference, rate in edges per second
    suite      suites/graph_challenge.yaml
    search     its tune: space and one point's measurement (harness tune searches it)
    table      the seed's Tables IV–IX layout, with the paper's published figures beside ours
"""

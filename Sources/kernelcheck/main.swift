print("kernelcheck")

"""Training vitscope's default CL (MoCo v3), MIM (SimMIM) and hybrid ViT-Ti/8 models on Imagenette."""

/**
 * lit4j: LiT (Locked-image text Tuning) on the JVM. {@link io.lit4j.LitModel} is the API; the
 * packages below it are layers.
 *
 * <p>Each line of the table is one layer, the top first. A class may use classes of its own layer
 * and of the layers below it, never one above: {@code LayerTest} reads the compiled classes' constant
 * pools and the sources' imports, and fails on an upward reference or on a package missing from the
 * table. An entry is a package under {@code io.lit4j} ({@code backend.onednn}) or a single class
 * ({@code backend.Backends}, {@code LitModel}); a class's own entry wins over its package's. The
 * generated bindings ({@code io.lit4j.bindings}, a module of their own) are used only by the
 * backend that wraps them.
 *
 * <pre>
 * cli                                 the command line: parse options, call the API, print
 * serve                               lit4j serve: the HTTP service (endpoints, keys, limits, metrics) a JVM can start in process
 * study                               the paper's studies (setups, lock regime, size, duplicates, multilingual) and the dedup tool
 * LitModel, DefaultModel              the public API: load a model, embed, classify, retrieve
 * train                               the LiT trainer, supervised pretraining, AdamW, losses, run folders
 * eval                                zero-shot classification, retrieval recall, linear probes, prompt templates
 * dedup                               the de-duplication rule: pixel and caption keys, perceptual hashes, blocking, cosine confirmation
 * embed                               image files and texts to embeddings in bounded batches
 * checkpoint                          lit4j, big_vision and HuggingFace files mapped onto model parameters
 * model                               the towers (one forward per tower), configs, presets, parameters
 * datasets                            the offline datasets lit4j makes: Fashion-MNIST captions, scenes
 * data                                images, tokenizers, caption datasets, training batches
 * report                              progress bars, tables and PNG charts
 * io                                  npy, npz, safetensors, PNG, atomic files and folders, SHA-256
 * backend.Backends                    picks the backend once and says why
 * backend.onednn, backend.scalar, backend.cuda    the backends: oneDNN (CPU), the scalar oracle and CUDA (GPU: cuBLASLt and lit4j's kernels)
 * backend                             the Backend interface and the values its ops take
 * tensor, simd                        tensors over memory segments; Java kernels (Vector API or plain) and the worker pool
 * LitException, Version, CacheDir     what every layer may use
 * </pre>
 */
package io.lit4j;

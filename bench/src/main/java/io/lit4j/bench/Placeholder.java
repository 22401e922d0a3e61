package io.lit4j.bench;
final class Placeholder {}

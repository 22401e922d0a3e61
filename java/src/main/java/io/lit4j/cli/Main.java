package io.lit4j.cli;

public final class Main {
    public static void main(String[] args) {
        System.out.println("lit4j");
    }
}

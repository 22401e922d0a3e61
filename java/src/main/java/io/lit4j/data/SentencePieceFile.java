package io.lit4j.data;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.lit4j.LitException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and checks a SentencePiece {@code .model} file before the native library sees it: the
 * pieces (for lit4j's vocabulary and its size) and the special ids, from the protobuf
 * {@code ModelProto} of google/sentencepiece {@code src/sentencepiece_model.proto} (pieces = 1 with
 * piece = 1, score = 2, type = 3; trainer_spec = 2 with unk_id = 40, bos_id = 41, eos_id = 42,
 * pad_id = 43; normalizer_spec = 3 with precompiled_charsmap = 2), walked with protobuf-java's
 * {@link CodedInputStream}. Why by hand: the native library exposes neither the vocabulary nor its
 * size, and a malformed {@code precompiled_charsmap} makes it read outside its trie, so that is
 * checked here as {@link TokenizerFile} checks the same charsmap in a {@code tokenizer.json}.
 */
record SentencePieceFile(List<String> pieces, Map<String, Integer> ids, int unkId, int bosId, int eosId, int padId) {

    /** The most pieces a vocabulary may have (as {@link TextTokenizer}'s limit). */
    static final int MAX_PIECES = TextTokenizer.MAX_VOCAB;

    static SentencePieceFile parse(byte[] bytes, Path file) {
        List<String> pieces = new ArrayList<>();
        int[] special = {0, 1, 2, -1}; // sentencepiece_model.proto defaults: unk 0, bos 1, eos 2, pad -1
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            while (!in.isAtEnd()) {
                int tag = in.readTag();
                int field = WireFormat.getTagFieldNumber(tag);
                if (field >= 1 && field <= 3 && WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    throw new IOException("ModelProto field " + field + " is not a message");
                }
                switch (field) {
                    case 1 -> {
                        int limit = in.pushLimit(in.readRawVarint32());
                        pieces.add(piece(in));
                        in.popLimit(limit);
                        if (pieces.size() > MAX_PIECES) {
                            throw new LitException(file + ": more than " + MAX_PIECES + " pieces: not a vocabulary lit4j takes");
                        }
                    }
                    case 2 -> {
                        int limit = in.pushLimit(in.readRawVarint32());
                        trainerSpec(in, special);
                        in.popLimit(limit);
                    }
                    case 3 -> {
                        int limit = in.pushLimit(in.readRawVarint32());
                        normalizerSpec(in, file);
                        in.popLimit(limit);
                    }
                    default -> in.skipField(tag);
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof LitException l) {
                throw l;
            }
            throw new LitException(file + ": not a SentencePiece model (" + (e.getMessage() == null ? e.getClass().getSimpleName()
                    : e.getMessage()) + "); the file is damaged or of another format", e);
        }
        if (pieces.isEmpty()) {
            throw new LitException(file + ": a SentencePiece model with no pieces (not a .model file?)");
        }
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < pieces.size(); i++) {
            ids.putIfAbsent(pieces.get(i), i);
        }
        String[] names = {"unk_id", "bos_id", "eos_id", "pad_id"};
        for (int i = 0; i < 4; i++) {
            if (special[i] < -1 || special[i] >= pieces.size()) {
                throw new LitException(file + ": trainer_spec." + names[i] + " " + special[i] + " is not a piece (the model has "
                        + pieces.size() + ")");
            }
        }
        if (special[0] < 0) {
            throw new LitException(file + ": trainer_spec.unk_id is -1; SentencePiece needs an unknown piece");
        }
        return new SentencePieceFile(Collections.unmodifiableList(pieces), Collections.unmodifiableMap(ids), special[0], special[1],
                special[2], special[3]);
    }

    private static String piece(CodedInputStream in) throws IOException {
        String piece = null;
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            if (WireFormat.getTagFieldNumber(tag) == 1 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                piece = in.readStringRequireUtf8();
                if (piece.length() > TextTokenizer.MAX_ADDED_TOKEN_CHARS) {
                    throw new IOException("a piece of " + piece.length() + " characters");
                }
            } else {
                in.skipField(tag);
            }
        }
        if (piece == null) {
            throw new IOException("a piece without its text");
        }
        return piece;
    }

    private static void trainerSpec(CodedInputStream in, int[] special) throws IOException {
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            int f = WireFormat.getTagFieldNumber(tag);
            if (f >= 40 && f <= 43 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
                special[f - 40] = in.readInt32();
            } else {
                in.skipField(tag);
            }
        }
    }

    private static void normalizerSpec(CodedInputStream in, Path file) throws IOException {
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            if (WireFormat.getTagFieldNumber(tag) == 2 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                byte[] map = in.readByteArray();
                String why = map.length == 0 ? null : TokenizerFile.charsmapProblem(map);
                if (why != null) {
                    throw new LitException(file + ": not a usable SentencePiece model (normalizer_spec.precompiled_charsmap has "
                            + why + ")");
                }
            } else {
                in.skipField(tag);
            }
        }
    }
}

package io.lit4j.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.Version;
import io.lit4j.eval.Embeddings;
import io.lit4j.eval.Templates;
import io.lit4j.eval.ZeroShotClassifier;

import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The HTTP endpoints: each reads its body through {@link Requests} (limits first), asks the
 * {@link Engine} for vectors and writes JSON. Every failure becomes {@code {"error", "type"}} with
 * its status; a message never quotes the request's content beyond a field name.
 */
final class Endpoints {
    /** Most prompts (labels × aliases × templates) one /classify may ask to embed. */
    static final int MAX_PROMPTS = 4096;
    /** Most aliases one label may have, and most templates one request may give. */
    static final int MAX_ALIASES = 16;
    static final int MAX_TEMPLATES = 100;
    /** Class embeddings kept for label sets seen recently (built ones are reused). */
    static final int CLASSIFIER_CACHE = 32;

    private final LitModel model;
    private final String modelName;
    private final Engine engine;
    private final Requests requests;
    private final ServeOptions.Limits limits;
    private final BooleanSupplier ready;
    private final Runnable bodyRead;
    private final Map<List<Object>, ZeroShotClassifier> classifiers = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<List<Object>, ZeroShotClassifier> eldest) {
            return size() > CLASSIFIER_CACHE;
        }
    });

    Endpoints(LitModel model, String modelName, Engine engine, ServeOptions.Limits limits, BooleanSupplier ready, Runnable bodyRead) {
        this.model = model;
        this.modelName = modelName;
        this.engine = engine;
        this.requests = new Requests(limits);
        this.limits = limits;
        this.ready = ready;
        this.bodyRead = bodyRead;
    }

    /** A body-taking endpoint's work: the request's exchange and body in, the JSON out. */
    interface Work {
        JsonObject run(Exchange x, ServerRequest req, byte[] body);
    }

    /** The handler for {@code name}: not ready → 503, body read within the limits, errors as JSON. */
    Handler post(String name, Work work) {
        return (req, res) -> {
            Exchange x = Guards.exchange(req);
            x.endpoint = name;
            try {
                if (!ready.getAsBoolean()) {
                    throw ApiError.unavailable("the model is still warming up (or the server is stopping); see /ready");
                }
                long length = req.headers().contentLength().orElse(-1);
                byte[] body = requests.body(req.content().inputStream(), length, x.startNanos + limits.readTimeout().toNanos());
                bodyRead.run();
                sendJson(res, x, 200, work.run(x, req, body));
            } catch (RuntimeException e) {
                fail(res, x, e);
            }
        };
    }

    static void sendJson(ServerResponse res, Exchange x, int status, JsonObject body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.header("x-queue-time", ms(x.queueNanos));
        res.header("x-preprocess-time", ms(x.preprocessNanos));
        res.header("x-inference-time", ms(x.inferenceNanos));
        res.header("x-total-time", ms(x.totalNanos()));
        res.send(body.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** {@code nanos} as milliseconds to three places, as {@code %.3f} writes them, without a Formatter for each of a response's four headers. */
    static String ms(long nanos) {
        if (nanos < 0) {
            return String.format(Locale.ROOT, "%.3f", nanos / 1e6);
        }
        long micros = (nanos + 500) / 1000, frac = micros % 1000;
        return (micros / 1000) + (frac < 10 ? ".00" : frac < 100 ? ".0" : ".") + frac;
    }

    /** The JSON error for {@code e}: an {@link ApiError} as it says, any other lit4j error a 422, anything else a 500. */
    static void fail(ServerResponse res, Exchange x, RuntimeException e) {
        ApiError err = e instanceof ApiError a ? a
                : e instanceof LitException l ? ApiError.invalid(l.getMessage())
                : ApiError.internal("internal error (" + e.getClass().getSimpleName() + "); the request id is " + x.id);
        x.errorType = err.type();
        if (err.retryAfterSeconds() > 0) {
            res.header(HeaderNames.RETRY_AFTER, Long.toString(err.retryAfterSeconds()));
        }
        if (err.status() == 408) {
            res.header(HeaderNames.CONNECTION, "close");
        }
        JsonObject o = new JsonObject();
        o.addProperty("error", err.getMessage());
        o.addProperty("type", err.type());
        sendJson(res, x, err.status(), o);
    }

    // ------------------------------------------------------------------ texts

    /** POST /v1/embeddings, OpenAI's shape: {"input": "text" | ["text", ...], "encoding_format": "float" | "base64"}. */
    JsonObject openAiEmbeddings(Exchange x, ServerRequest req, byte[] body) {
        long t0 = System.nanoTime();
        JsonObject o = Requests.object(body);
        List<String> input = requests.texts(o, "input", true, true);
        JsonElement fmt = o.get("encoding_format");
        String format = fmt == null || fmt.isJsonNull() ? "float" : Requests.string(fmt, "encoding_format");
        if (!format.equals("float") && !format.equals("base64")) {
            throw ApiError.invalid("'encoding_format' is '" + clip(format) + "'; give float or base64");
        }
        int tokens = 0;
        int context = model.config().text().contextLength();
        for (String s : input) {
            tokens += Math.min(context, model.tokenizer().ids(s).length);
        }
        x.preprocessNanos += System.nanoTime() - t0;
        float[][] v = texts(x, input);
        JsonArray data = new JsonArray();
        for (int i = 0; i < v.length; i++) {
            JsonObject d = new JsonObject();
            d.addProperty("object", "embedding");
            d.addProperty("index", i);
            if (format.equals("base64")) {
                ByteBuffer b = ByteBuffer.allocate(v[i].length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v[i]);
                d.addProperty("embedding", Base64.getEncoder().encodeToString(b.array()));
            } else {
                d.add("embedding", vector(v[i]));
            }
            data.add(d);
        }
        JsonObject out = new JsonObject();
        out.addProperty("object", "list");
        out.add("data", data);
        out.addProperty("model", modelName);
        JsonObject usage = new JsonObject();
        usage.addProperty("prompt_tokens", tokens);
        usage.addProperty("total_tokens", tokens);
        out.add("usage", usage);
        return out;
    }

    /** POST /embed/texts: {"texts": [...]} → {"embeddings": [[...], ...], "dim": d}. */
    JsonObject embedTexts(Exchange x, ServerRequest req, byte[] body) {
        long t0 = System.nanoTime();
        List<String> texts = requests.texts(Requests.object(body), "texts", false, true);
        x.preprocessNanos += System.nanoTime() - t0;
        return embeddings(texts(x, texts));
    }

    private float[][] texts(Exchange x, List<String> texts) {
        Engine.Embedded e = engine.texts(texts, deadline(x));
        x.engine(e);
        return e.vectors();
    }

    // ------------------------------------------------------------------ images

    /** POST /embed/images: the body is one image file (image/*), a multipart form of files, or {"images": [base64, ...]}. */
    JsonObject embedImages(Exchange x, ServerRequest req, byte[] body) {
        long t0 = System.nanoTime();
        List<BufferedImage> decoded = decode(imageFiles(req, body));
        x.preprocessNanos += System.nanoTime() - t0;
        return embeddings(images(x, decoded));
    }

    private List<byte[]> imageFiles(ServerRequest req, byte[] body) {
        String given = req.headers().contentType().map(t -> t.text()).orElse("");
        String type = given.toLowerCase(Locale.ROOT);
        if (type.startsWith("image/") || type.startsWith("application/octet-stream")) {
            if (body.length == 0) {
                throw ApiError.invalid("the body is empty: send the image file's bytes");
            }
            return List.of(body);
        }
        if (type.startsWith("multipart/form-data")) {
            List<byte[]> parts = Requests.multipart(body, given); // the boundary is case-sensitive
            requests.checkImageCount(parts.size());
            if (parts.isEmpty()) {
                throw ApiError.invalid("the form has no file part: send the images as files (curl -F image=@cat.png)");
            }
            return parts;
        }
        if (type.startsWith("application/json")) {
            return requests.base64Images(Requests.object(body), "images", true);
        }
        throw ApiError.unsupported("Content-Type '" + clip(type) + "': send image/png (or another image/*), multipart/form-data"
                + " or application/json with {\"images\": [base64, ...]}");
    }

    private List<BufferedImage> decode(List<byte[]> files) {
        List<BufferedImage> out = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            out.add(requests.image(files.get(i), "image " + i));
        }
        return out;
    }

    private float[][] images(Exchange x, List<BufferedImage> images) {
        if (images.isEmpty()) {
            return new float[0][];
        }
        Engine.Embedded e = engine.images(images, deadline(x));
        x.engine(e);
        return e.vectors();
    }

    // ------------------------------------------------------------------ zero-shot and similarity

    /**
     * POST /classify: {"images": [base64, ...], "labels": ["cat", {"name": "sneaker", "aliases": ["trainer"]}, ...],
     * "templates": "clip_80" | "clip_best" | ["a photo of a {}.", ...], "top_k": 3} → per image the top classes
     * with probability and cosine.
     */
    JsonObject classify(Exchange x, ServerRequest req, byte[] body) {
        long t0 = System.nanoTime();
        JsonObject o = Requests.object(body);
        List<byte[]> files = requests.base64Images(o, "images", true);
        List<ZeroShotClassifier.Label> labels = labels(o);
        List<String> templates = templates(o);
        long prompts = (long) templates.size() * labels.stream().mapToInt(l -> l.aliases().size()).sum();
        if (prompts > MAX_PROMPTS) {
            throw ApiError.tooLarge("labels × aliases × templates make " + prompts + " prompts; the most per request is " + MAX_PROMPTS);
        }
        int k = Requests.integer(o, "top_k", Math.min(5, labels.size()), 1, labels.size());
        List<BufferedImage> decoded = decode(files);
        x.preprocessNanos += System.nanoTime() - t0;
        ZeroShotClassifier classifier = classifier(x, labels, templates);
        float[] z = Embeddings.flatten(images(x, decoded), model.embedDim(), "images");
        JsonArray results = new JsonArray();
        for (List<ZeroShotClassifier.Scored> top : classifier.classify(z, k)) {
            JsonArray row = new JsonArray();
            for (ZeroShotClassifier.Scored s : top) {
                JsonObject p = new JsonObject();
                p.addProperty("label", s.label());
                p.addProperty("probability", s.probability());
                p.addProperty("cosine", s.cosine());
                row.add(p);
            }
            JsonObject r = new JsonObject();
            r.add("top", row);
            results.add(r);
        }
        JsonObject out = new JsonObject();
        out.add("results", results);
        return out;
    }

    private List<ZeroShotClassifier.Label> labels(JsonObject o) {
        JsonElement e = o.get("labels");
        if (e == null || !e.isJsonArray() || e.getAsJsonArray().isEmpty()) {
            throw ApiError.invalid("'labels' must be a non-empty list of names or {\"name\": ..., \"aliases\": [...]} objects");
        }
        JsonArray a = e.getAsJsonArray();
        if (a.size() > limits.maxLabels()) {
            throw ApiError.tooLarge("'labels' has " + a.size() + " classes; the most per request is " + limits.maxLabels());
        }
        List<ZeroShotClassifier.Label> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            JsonElement l = a.get(i);
            String where = "labels[" + i + "]";
            if (l.isJsonObject()) {
                String name = Requests.string(l.getAsJsonObject().get("name"), where + ".name");
                List<String> names = new ArrayList<>(List.of(name));
                JsonElement al = l.getAsJsonObject().get("aliases");
                if (al != null && !al.isJsonNull()) {
                    if (!al.isJsonArray() || al.getAsJsonArray().size() > MAX_ALIASES) {
                        throw ApiError.invalid(where + ".aliases must be a list of at most " + MAX_ALIASES + " strings");
                    }
                    for (int j = 0; j < al.getAsJsonArray().size(); j++) {
                        names.add(Requests.string(al.getAsJsonArray().get(j), where + ".aliases[" + j + "]"));
                    }
                }
                out.add(new ZeroShotClassifier.Label(name, checkChars(names, where)));
            } else {
                String name = Requests.string(l, where);
                out.add(new ZeroShotClassifier.Label(name, checkChars(List.of(name), where)));
            }
        }
        return out;
    }

    private List<String> checkChars(List<String> names, String where) {
        for (String n : names) {
            if (n.length() > limits.maxChars()) {
                throw ApiError.tooLarge(where + " has a name of " + n.length() + " characters; the most is " + limits.maxChars());
            }
        }
        return names;
    }

    /** A built-in set by name or a list; never a path (a request may not read the server's files). */
    private List<String> templates(JsonObject o) {
        JsonElement e = o.get("templates");
        if (e == null || e.isJsonNull()) {
            return Templates.load(Templates.DEFAULT);
        }
        if (e.isJsonPrimitive()) {
            String name = Requests.string(e, "templates");
            if (!Templates.BUILT_IN.contains(name)) {
                throw ApiError.invalid("'templates' is '" + clip(name) + "'; give one of " + Templates.BUILT_IN + " or a list of templates with {}");
            }
            return Templates.load(name);
        }
        if (!e.isJsonArray() || e.getAsJsonArray().isEmpty() || e.getAsJsonArray().size() > MAX_TEMPLATES) {
            throw ApiError.invalid("'templates' must be " + Templates.BUILT_IN + " or a list of 1 to " + MAX_TEMPLATES + " templates");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < e.getAsJsonArray().size(); i++) {
            out.add(Requests.string(e.getAsJsonArray().get(i), "templates[" + i + "]"));
        }
        return checkChars(out, "templates");
    }

    private ZeroShotClassifier classifier(Exchange x, List<ZeroShotClassifier.Label> labels, List<String> templates) {
        List<Object> key = List.of(labels, templates);
        ZeroShotClassifier c = classifiers.get(key);
        if (c == null) {
            c = ZeroShotClassifier.build(labels, templates, model.embedDim(), model.temperature(),
                    prompts -> Embeddings.flatten(texts(x, prompts), model.embedDim(), "prompts"));
            classifiers.put(key, c);
        }
        return c;
    }

    /** POST /similarity: {"images": [base64, ...], "texts": [...]} → cosines of every item against every other, images first. */
    JsonObject similarity(Exchange x, ServerRequest req, byte[] body) {
        long t0 = System.nanoTime();
        JsonObject o = Requests.object(body);
        List<byte[]> files = requests.base64Images(o, "images", false);
        List<String> texts = requests.texts(o, "texts", false, false);
        if (files.size() + texts.size() < 1) {
            throw ApiError.invalid("give 'images' and/or 'texts' to compare");
        }
        List<BufferedImage> decoded = decode(files);
        x.preprocessNanos += System.nanoTime() - t0;
        List<float[]> all = new ArrayList<>(List.of(images(x, decoded)));
        if (!texts.isEmpty()) {
            all.addAll(List.of(texts(x, texts)));
        }
        float[][] rows = all.toArray(new float[0][]);
        float[][] s = model.similarity(rows, rows);
        JsonArray items = new JsonArray();
        for (int i = 0; i < rows.length; i++) {
            JsonObject it = new JsonObject();
            it.addProperty("kind", i < decoded.size() ? "image" : "text");
            it.addProperty("index", i < decoded.size() ? i : i - decoded.size());
            items.add(it);
        }
        JsonArray m = new JsonArray();
        for (float[] r : s) {
            m.add(vector(r));
        }
        JsonObject out = new JsonObject();
        out.add("items", items);
        out.add("similarity", m);
        return out;
    }

    // ------------------------------------------------------------------ status

    /** GET /info: the model card fields, backend, dimensions and limits. */
    JsonObject info() {
        JsonObject o = new JsonObject();
        o.addProperty("lit4j", Version.lit4j());
        o.addProperty("model", modelName);
        o.addProperty("backend", model.backendDescription());
        o.addProperty("embed_dim", model.embedDim());
        o.addProperty("temperature", model.temperature());
        if (model.config().hasImage()) {
            JsonObject img = new JsonObject();
            img.addProperty("image_size", model.preprocess().size());
            o.add("image", img);
        }
        if (model.config().hasText()) {
            JsonObject t = new JsonObject();
            t.addProperty("context_length", model.config().text().contextLength());
            t.addProperty("vocab_size", model.tokenizer().vocabSize());
            o.add("text", t);
        }
        JsonObject l = new JsonObject();
        l.addProperty("max_body_bytes", limits.maxBodyBytes());
        l.addProperty("max_image_pixels", limits.maxImagePixels());
        l.addProperty("max_texts", limits.maxTexts());
        l.addProperty("max_chars", limits.maxChars());
        l.addProperty("max_images", limits.maxImages());
        l.addProperty("max_labels", limits.maxLabels());
        o.add("limits", l);
        return o;
    }

    private Instant deadline(Exchange x) {
        return Instant.now().plusNanos(Math.max(0, limits.requestTimeout().toNanos() - x.totalNanos()));
    }

    private static JsonObject embeddings(float[][] v) {
        JsonArray a = new JsonArray();
        for (float[] r : v) {
            a.add(vector(r));
        }
        JsonObject out = new JsonObject();
        out.add("embeddings", a);
        out.addProperty("count", v.length);
        return out;
    }

    private static JsonArray vector(float[] v) {
        JsonArray a = new JsonArray(v.length);
        for (float f : v) {
            a.add(f);
        }
        return a;
    }

    /** A value echoed in an error, cut short (errors never carry a request's content at length). */
    private static String clip(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}

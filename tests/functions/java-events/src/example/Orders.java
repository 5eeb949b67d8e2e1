package example;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.PojoRequestHandler;
import java.util.ArrayList;
import java.util.List;

/** A PojoRequestHandler: an order (with a nested customer and items) in, a receipt out, as JSON. */
public class Orders implements PojoRequestHandler<Orders.Order, Orders.Receipt> {
    @Override
    public Receipt handleRequest(Order order, Context context) {
        if (order.getItems().isEmpty()) {
            throw new IllegalArgumentException("an order needs items");
        }
        Receipt receipt = new Receipt();
        receipt.setOrderId(order.getId());
        receipt.setCustomer(order.getCustomer());
        double total = 0;
        for (Item item : order.getItems()) {
            total += item.getPrice() * item.getQuantity();
        }
        receipt.setTotal(total);
        receipt.setRequestId(context.getRequestId());
        return receipt;
    }

    public static class Customer {
        private String name;
        private boolean vip;

        public String getName() {
            return name;
        }

        public void setName(String name) {
            this.name = name;
        }

        public boolean isVip() {
            return vip;
        }

        public void setVip(boolean vip) {
            this.vip = vip;
        }
    }

    public static class Item {
        private String sku;
        private int quantity;
        private double price;

        public String getSku() {
            return sku;
        }

        public void setSku(String sku) {
            this.sku = sku;
        }

        public int getQuantity() {
            return quantity;
        }

        public void setQuantity(int quantity) {
            this.quantity = quantity;
        }

        public double getPrice() {
            return price;
        }

        public void setPrice(double price) {
            this.price = price;
        }
    }

    public static class Order {
        private String id;
        private Customer customer;
        private List<Item> items = new ArrayList<>();

        public String getId() {
            return id;
        }

        public void setId(String id) {
            this.id = id;
        }

        public Customer getCustomer() {
            return customer;
        }

        public void setCustomer(Customer customer) {
            this.customer = customer;
        }

        public List<Item> getItems() {
            return items;
        }

        public void setItems(List<Item> items) {
            this.items = items;
        }
    }

    public static class Receipt {
        private String orderId;
        private Customer customer;
        private double total;
        private String requestId;

        public String getOrderId() {
            return orderId;
        }

        public void setOrderId(String orderId) {
            this.orderId = orderId;
        }

        public Customer getCustomer() {
            return customer;
        }

        public void setCustomer(Customer customer) {
            this.customer = customer;
        }

        public double getTotal() {
            return total;
        }

        public void setTotal(double total) {
            this.total = total;
        }

        public String getRequestId() {
            return requestId;
        }

        public void setRequestId(String requestId) {
            this.requestId = requestId;
        }
    }
}
